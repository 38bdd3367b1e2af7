"""The `idempotency_keys` table: (member, route, key) → request fingerprint and response."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    route: str = column(sa.Text, primary_key=True)
    key: str = column(sa.Text, primary_key=True)
    fingerprint: bytes = column(pg.BYTEA)
    status_code: int | None = column(sa.SmallInteger, nullable=True)
    response: dict | None = column(pg.JSONB, nullable=True)
    created_at: datetime | None = timestamp()
