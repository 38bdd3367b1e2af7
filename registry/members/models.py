"""Tables of the members domain: `members` and their `api_clients`."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp, uuid_pk


class Member(SQLModel, table=True):
    __tablename__ = "members"
    __table_args__ = (
        sa.CheckConstraint(r"code ~ '^[A-Z0-9_]{2,32}$'", name="code_format"),
        sa.CheckConstraint(
            "kind IN ('association','bank','auto_finance','consumer_finance','leasing','microcredit','other')",
            name="kind_known",
        ),
        sa.CheckConstraint("status IN ('active','suspended')", name="status_known"),
    )

    id: uuid.UUID | None = uuid_pk()
    code: str = column(sa.Text, unique=True)
    name: str = column(sa.Text)
    kind: str = column(sa.Text)
    status: str = column(sa.Text, server_default="active")
    quota_exposure_per_minute: int | None = column(sa.Integer, nullable=True)
    quota_writes_per_second: int | None = column(sa.Integer, nullable=True)
    created_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"
    __table_args__ = (
        sa.CheckConstraint("status IN ('active','revoked')", name="status_known"),
        sa.CheckConstraint("secret_hash IS NOT NULL OR public_jwk IS NOT NULL", name="has_credential"),
    )

    id: uuid.UUID | None = uuid_pk()
    client_id: str = column(sa.Text, unique=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), index=True)
    name: str = column(sa.Text)
    secret_hash: bytes | None = column(pg.BYTEA, nullable=True)
    public_jwk: dict | None = column(pg.JSONB, nullable=True)
    scopes: list[str] = column(pg.ARRAY(sa.Text))
    status: str = column(sa.Text, server_default="active")
    created_at: datetime | None = timestamp()
    last_used_at: datetime | None = timestamp(nullable=True, default_now=False)
    revoked_at: datetime | None = timestamp(nullable=True, default_now=False)
