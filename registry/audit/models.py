"""The `audit_log` table (UPDATE, DELETE and TRUNCATE are refused by triggers, see the
migrations) and `audit_checkpoints`, the signed hash chain that seals it."""

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
    # The writing transaction: rows are sealed in (txid, id) order once every transaction
    # older than them has finished, so no row can appear later inside a sealed range.
    txid: int | None = column(sa.BigInteger, server_default=sa.text("(pg_current_xact_id()::text)::bigint"), index=True)
    # SHA-256 over the row's fields, set by a BEFORE INSERT trigger on every insert path
    # (`audit_row_hash`, migration 0012); the sealer folds it into the next checkpoint.
    row_hash: bytes | None = column(pg.BYTEA)


class AuditCheckpoint(SQLModel, table=True):
    __tablename__ = "audit_checkpoints"

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    last_txid: int = column(sa.BigInteger)
    last_id: int = column(sa.BigInteger)
    rows: int = column(sa.Integer)
    previous_digest: bytes = column(pg.BYTEA)
    digest: bytes = column(pg.BYTEA)
    kid: str = column(sa.Text)
    signature: bytes = column(pg.BYTEA)
    sealed_at: datetime | None = timestamp()
    # 1: chains the rows' content (checkpoints sealed before migration 0012); 2: chains the
    # row hashes stored at insert. `changed_rows`: ids of rows of the range whose content no
    # longer matched their hash when sealed.
    format: int = column(sa.SmallInteger, server_default="1")
    changed_rows: list[int] = column(pg.ARRAY(sa.BigInteger), server_default=sa.text("'{}'"))
