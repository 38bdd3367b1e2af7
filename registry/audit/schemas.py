"""API shapes of the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registry.audit.actions import AuditAction
from registry.core.schemas import ResponseModel

MAX_NAMED_ROWS = 1000  # changed rows a verification names one by one


@dataclass
class AuditEntry:
    """One row to append: built by the request machinery or a service."""

    action: str
    outcome: int
    member_id: uuid.UUID | None = None
    client_id: str | None = None
    resource: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class AuditEvent(ResponseModel):
    id: int = Field(examples=[4211])
    at: datetime
    member_id: uuid.UUID | None
    member_code: str | None = Field(
        default=None,
        description="The acting member's code, beside its id (null without a member)",
        examples=["BANK001"],
    )
    client_id: str | None = Field(examples=["brc_3f9a1c2e7b6d5a40"])
    action: AuditAction | str = Field(examples=["admin.member.create"])
    resource: str | None = Field(examples=["member:1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    outcome: int = Field(description="HTTP status of the request", examples=[201])
    request_id: str | None = Field(examples=["2f1c7d0a9b8e4c3d"])
    details: dict[str, Any] = Field(examples=[{"code": "BANK001"}])

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 4211,
                    "at": "2026-11-28T09:30:02Z",
                    "member_id": "0c6d5e4f-3a2b-4c1d-9e8f-7a6b5c4d3e2f",
                    "client_id": "brc_3f9a1c2e7b6d5a40",
                    "action": "admin.member.create",
                    "resource": "member:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                    "outcome": 201,
                    "request_id": "2f1c7d0a9b8e4c3d",
                    "details": {"code": "BANK001"},
                }
            ]
        },
    )


class ChangeFound(StrEnum):
    at_sealing = "at_sealing"
    after_sealing = "after_sealing"
    unsealed = "unsealed"


class ChangedRow(BaseModel):
    """An audit row whose content no longer matches the hash it got when it was inserted.
    `action` and `member_id` are what the row says now."""

    id: int = Field(examples=[4211])
    action: str = Field(examples=["exposure.query"])
    member_id: uuid.UUID | None
    checkpoint: int | None = Field(description="The checkpoint that sealed the row; null while unsealed")
    found: ChangeFound = Field(
        description="`at_sealing`: the sealer found the row changed and recorded it in the checkpoint; "
        "`after_sealing`: sealed intact, changed since; `unsealed`: changed after insert, not sealed yet"
    )


class AuditVerification(BaseModel):
    ok: bool
    checkpoints: int
    sealed_rows: int
    unsealed_rows: int
    changed_rows: list[ChangedRow] = Field(
        description=f"Rows changed after they were written (the first {MAX_NAMED_ROWS}), in log order"
    )
    problems: list[str] = Field(
        examples=[
            [
                "row 4211 (exposure.query, member 1b4e28ba-2fa1-11d2-883f-0016d3cca427): changed after "
                "checkpoint 17 sealed it"
            ]
        ]
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": False,
                    "checkpoints": 981,
                    "sealed_rows": 1204417,
                    "unsealed_rows": 12,
                    "changed_rows": [
                        {
                            "id": 4211,
                            "action": "exposure.query",
                            "member_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                            "checkpoint": 17,
                            "found": "after_sealing",
                        }
                    ],
                    "problems": [
                        "row 4211 (exposure.query, member 1b4e28ba-2fa1-11d2-883f-0016d3cca427): changed after "
                        "checkpoint 17 sealed it"
                    ],
                }
            ]
        }
    )


class CheckpointHead(BaseModel):
    """A signed checkpoint of the audit chain. Its Ed25519 signature (key `kid`, published at
    `/.well-known/jwks.json`) covers `registry-audit-v<format>|` + previous_digest + digest +
    the compact JSON array `[last_txid, last_id, rows, changed_rows]` (format 1: without
    `changed_rows`); digests and signature are hex here. See docs/security.md."""

    id: int = Field(examples=[981])
    format: int = Field(description="1: chains the rows' content; 2: chains the row hashes set at insert", examples=[2])
    last_txid: int = Field(examples=[48210377])
    last_id: int = Field(description="The last audit row the checkpoint seals", examples=[1204417])
    rows: int = Field(description="Rows sealed by this checkpoint", examples=[312])
    changed_rows: list[int] = Field(description="Rows found changed after insert when sealed (normally empty)")
    previous_digest: str = Field(description="Hex digest of the checkpoint before (64 zeros for the first)")
    digest: str = Field(description="Hex SHA-256 chain digest after this checkpoint's rows")
    kid: str
    signature: str = Field(description="Hex Ed25519 signature")
    sealed_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 981,
                    "format": 2,
                    "last_txid": 48210377,
                    "last_id": 1204417,
                    "rows": 312,
                    "changed_rows": [],
                    "previous_digest": "5d41402abc4b2a76b9719d911017c592ae8b1f3c9e2d7a6b5c4d3e2f1a0b9c8d",
                    "digest": "7b2c9e1f4a6d8b0c3e5f7a9b1d3f5e7c9a1b3d5f7e9c1a3b5d7f9e1c3a5b7d9f",
                    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
                    "signature": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
                    "7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
                    "sealed_at": "2026-11-28T09:31:00Z",
                }
            ]
        }
    )
