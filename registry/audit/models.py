"""The `audit_log` table. UPDATE, DELETE and TRUNCATE are refused by triggers (see the migration)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_member_id_id", "member_id", "id"),
        sa.Index("ix_audit_log_action_id", "action", "id"),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    at: datetime | None = timestamp()
    member_id: uuid.UUID | None = column(pg.UUID(as_uuid=True), nullable=True)
    client_id: str | None = column(sa.Text, nullable=True)
    action: str = column(sa.Text)
    resource: str | None = column(sa.Text, nullable=True)
    outcome: int = column(sa.SmallInteger)
    request_id: str | None = column(sa.Text, nullable=True)
    details: dict = column(pg.JSONB, server_default=sa.text("'{}'::jsonb"))
