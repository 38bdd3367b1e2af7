"""Tables of uploads: `upload_jobs` (one row per uploaded file, with its progress and counts)
and `upload_errors` (one row per rejected line). The staging rows live in a per-connection
temporary table (see repository.py), so they never reach these tables or the WAL."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp


class UploadJob(SQLModel, table=True):
    __tablename__ = "upload_jobs"
    __table_args__ = (
        sa.Index("ix_upload_jobs_member_id_created_at_id", "member_id", "created_at", "id"),
        sa.Index(
            "ix_upload_jobs_status_unfinished",
            "status",
            postgresql_where=sa.text("status IN ('receiving','processing')"),
        ),
        sa.CheckConstraint("status IN ('receiving','processing','completed','failed')", name="status_known"),
        sa.CheckConstraint("format IN ('csv','ndjson')", name="format_known"),
    )

    id: uuid.UUID = column(pg.UUID(as_uuid=True), primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    client_id: str = column(sa.Text)
    request_id: str | None = column(sa.Text, nullable=True)
    idempotency_key: str | None = column(sa.Text, nullable=True)
    format: str = column(sa.Text)
    gzip: bool = column(sa.Boolean)
    status: str = column(sa.Text)
    received_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    total_lines: int | None = column(sa.BigInteger, nullable=True)
    processed_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    created_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    updated_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    unchanged_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    stale_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    rejected_lines: int = column(sa.BigInteger, server_default=sa.text("0"))
    error: str | None = column(sa.Text, nullable=True)
    created_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()
    finished_at: datetime | None = timestamp(nullable=True, default_now=False)


class UploadError(SQLModel, table=True):
    __tablename__ = "upload_errors"

    job_id: uuid.UUID = column(
        pg.UUID(as_uuid=True), sa.ForeignKey("upload_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    line: int = column(sa.BigInteger, primary_key=True)
    account_ref: str | None = column(sa.Text, nullable=True)
    errors: list = column(pg.JSONB)
