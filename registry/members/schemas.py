"""API shapes of members and their clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from registry.auth.principal import Scope
from registry.core.schemas import FieldValueError, RequestModel, ResponseModel


class MemberKind(StrEnum):
    association = "association"
    bank = "bank"
    auto_finance = "auto_finance"
    consumer_finance = "consumer_finance"
    leasing = "leasing"
    microcredit = "microcredit"
    other = "other"


class MemberStatus(StrEnum):
    active = "active"
    suspended = "suspended"


MemberCode = Annotated[str, Field(pattern=r"^[A-Z0-9_]{2,32}$", examples=["BANK001"])]
Quota = Annotated[int, Field(ge=1, le=1_000_000)]


class MemberCreate(RequestModel):
    code: MemberCode
    name: str = Field(min_length=1, max_length=200, examples=["First Commercial Bank"])
    kind: MemberKind = Field(examples=["bank"])
    quota_exposure_per_minute: Quota | None = Field(default=None, examples=[6000])
    quota_writes_per_second: Quota | None = Field(default=None, examples=[50])

    model_config = ConfigDict(
        **{
            "extra": "forbid",
            "json_schema_extra": {"examples": [{"code": "BANK001", "name": "First Commercial Bank", "kind": "bank"}]},
        }
    )


class MemberUpdate(RequestModel):
    """Only the fields sent change; a quota set to null falls back to the service default."""

    status: MemberStatus | None = Field(default=None, examples=["suspended"])
    name: str | None = Field(default=None, min_length=1, max_length=200)
    quota_exposure_per_minute: Quota | None = None
    quota_writes_per_second: Quota | None = None

    @model_validator(mode="after")
    def _no_null_identity(self) -> MemberUpdate:
        for field in ("status", "name"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise FieldValueError(field, f"{field} cannot be null")
        return self

    model_config = ConfigDict(**{"extra": "forbid", "json_schema_extra": {"examples": [{"status": "suspended"}]}})


class MemberOut(ResponseModel):
    id: uuid.UUID
    code: str = Field(examples=["BANK001"])
    name: str = Field(examples=["First Commercial Bank"])
    kind: MemberKind
    status: MemberStatus
    quota_exposure_per_minute: int | None
    quota_writes_per_second: int | None
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                    "code": "BANK001",
                    "name": "First Commercial Bank",
                    "kind": "bank",
                    "status": "active",
                    "quota_exposure_per_minute": 6000,
                    "quota_writes_per_second": None,
                    "created_at": "2026-11-02T08:15:00Z",
                    "updated_at": "2026-11-02T08:15:00Z",
                }
            ]
        },
    )


class ClientCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200, examples=["loan-origination"])
    scopes: list[Scope] = Field(
        min_length=1, max_length=6, examples=[["records:write", "records:read", "exposure:read"]]
    )
    public_jwk: dict[str, Any] | None = Field(
        default=None,
        description="Register a private_key_jwt client: its public key (Ed25519 OKP or P-256 EC JWK); "
        "no secret is issued",
        examples=[{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}],
    )

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[Scope]) -> list[Scope]:
        if len(set(scopes)) != len(scopes):
            raise ValueError("scopes must not repeat")
        return scopes

    model_config = ConfigDict(
        **{
            "extra": "forbid",
            "json_schema_extra": {
                "examples": [{"name": "loan-origination", "scopes": ["records:write", "exposure:read"]}]
            },
        }
    )


CLIENT_EXAMPLE = {
    "client_id": "brc_3f9a1c2e7b6d5a40",
    "member_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "name": "loan-origination",
    "scopes": ["records:write", "exposure:read"],
    "auth_method": "client_secret",
    "status": "active",
    "created_at": "2026-11-02T08:20:00Z",
    "last_used_at": "2026-11-28T09:30:00Z",
    "revoked_at": None,
}


class ClientOut(ResponseModel):
    client_id: str = Field(examples=["brc_3f9a1c2e7b6d5a40"])
    member_id: uuid.UUID
    name: str
    scopes: list[str]
    auth_method: str = Field(description="client_secret_basic/post, or private_key_jwt", examples=["client_secret"])
    status: str = Field(examples=["active"])
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [CLIENT_EXAMPLE]})


class ClientCreated(ClientOut):
    client_secret: str | None = Field(
        description="Shown this once; only a hash is kept. Null for a private_key_jwt client.",
        examples=["brs_kQ3v9x1mZ0p8YtW4rL6sN2bH7cD5fG1jA3eR9uI0oP4"],
    )

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **CLIENT_EXAMPLE,
                    "last_used_at": None,
                    "client_secret": "brs_kQ3v9x1mZ0p8YtW4rL6sN2bH7cD5fG1jA3eR9uI0oP4",
                }
            ]
        },
    )
