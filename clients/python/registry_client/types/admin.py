"""The association's administration: members, their API clients, and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from registry_client.types._models import RequestModel, ResponseModel


class MemberKind(StrEnum):
    ASSOCIATION = "association"
    BANK = "bank"
    AUTO_FINANCE = "auto_finance"
    CONSUMER_FINANCE = "consumer_finance"
    LEASING = "leasing"
    MICROCREDIT = "microcredit"
    OTHER = "other"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Scope(StrEnum):
    RECORDS_WRITE = "records:write"
    RECORDS_READ = "records:read"
    EXPOSURE_READ = "exposure:read"
    MONITOR = "monitor"
    DISPUTES = "disputes"
    ADMIN = "admin"


Quota = Annotated[int, Field(ge=1, le=1_000_000)]


class MemberCreate(RequestModel):
    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=200)
    kind: MemberKind
    quota_exposure_per_minute: Quota | None = None
    quota_writes_per_second: Quota | None = None


class MemberUpdate(RequestModel):
    """A partial update: only the fields given are sent; a quota given as None means no quota."""

    status: MemberStatus | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    quota_exposure_per_minute: Quota | None = None
    quota_writes_per_second: Quota | None = None


class Member(ResponseModel):
    id: str
    code: str
    name: str
    kind: str
    status: str
    quota_exposure_per_minute: int | None = None
    quota_writes_per_second: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ClientCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    public_jwk: dict[str, Any] | None = Field(
        default=None,
        description="A private_key_jwt client: its public key (Ed25519 or P-256 JWK); no secret",
    )


class ApiClient(ResponseModel):
    client_id: str
    name: str | None = None
    member_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    auth_method: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiClientWithSecret(ApiClient):
    """A new client. The registry shows `client_secret` this once and keeps only its hash
    (None for a `private_key_jwt` client). Left out of `repr()` and `str()`, so that logging
    the object does not log the secret; read the attribute to hand it over."""

    client_secret: str | None = Field(default=None, repr=False)


class AuditEntry(ResponseModel):
    id: str
    at: datetime
    member_id: str | None = None
    client_id: str | None = None
    action: str
    resource: str | None = None
    outcome: int
    request_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # Added by newer registries beside the ids (kept when present, None otherwise).
    member_code: str | None = None
