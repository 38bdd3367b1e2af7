"""The `inquiries` table: one row per subject of every accepted exposure query."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp


class Inquiry(SQLModel, table=True):
    __tablename__ = "inquiries"
    __table_args__ = (
        sa.Index("ix_inquiries_subject_key_at", "subject_key", "at"),
        # Includes purpose so the statistics count a window from the index alone.
        sa.Index("ix_inquiries_member_id_at", "member_id", "at", postgresql_include=["purpose"]),
        sa.CheckConstraint(
            "purpose IN ('loan_application','account_review','collection','dispute_investigation')",
            name="purpose_known",
        ),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    subject_key: bytes = column(pg.BYTEA)
    purpose: str = column(sa.Text)
    hard: bool = column(sa.Boolean)
    consent_ref: str | None = column(sa.Text, nullable=True)
    at: datetime | None = timestamp()
