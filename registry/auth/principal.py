"""Who is calling: only the auth dependency produces a Principal, and so a MemberId."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import NewType

MemberId = NewType("MemberId", uuid.UUID)


class Scope(StrEnum):
    RECORDS_WRITE = "records:write"
    RECORDS_READ = "records:read"
    EXPOSURE_READ = "exposure:read"
    MONITOR = "monitor"
    DISPUTES = "disputes"
    ADMIN = "admin"


ALL_SCOPES = frozenset(s.value for s in Scope)


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    member_id: MemberId
    scopes: frozenset[str]
    token_id: str
    expires_at: int
    kid: str = ""
