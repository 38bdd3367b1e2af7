"""API shapes of the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field

from registry.audit.actions import AuditAction

from registry.core.schemas import ResponseModel


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
    client_id: str | None = Field(examples=["brc_3f9a1c2e7b6d5a40"])
    action: AuditAction | str = Field(examples=["admin.member.create"])
    resource: str | None = Field(examples=["member:1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    outcome: int = Field(description="HTTP status of the request", examples=[201])
    request_id: str | None = Field(examples=["2f1c7d0a9b8e4c3d"])
    details: dict[str, Any] = Field(examples=[{"code": "BANK001"}])
