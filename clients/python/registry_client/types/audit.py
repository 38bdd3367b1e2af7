"""The audit log's integrity: a verification of the whole log, and the signed checkpoint
chain members keep heads of."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from registry_client.types._models import ResponseModel


class ChangedRow(ResponseModel):
    id: int
    action: str
    member_id: str | None = None
    checkpoint: int | None = None
    found: str


class AuditVerification(ResponseModel):
    """`ok` when every row and checkpoint verifies; `problems` says each finding in words."""

    ok: bool
    checkpoints: int
    sealed_rows: int
    unsealed_rows: int
    changed_rows: list[ChangedRow] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


class CheckpointHead(ResponseModel):
    """A signed checkpoint of the audit chain (see the registry's docs/security.md)."""

    id: int
    format: int
    last_txid: int
    last_id: int
    rows: int
    changed_rows: list[int] = Field(default_factory=list)
    previous_digest: str
    digest: str
    kid: str
    signature: str
    sealed_at: datetime
