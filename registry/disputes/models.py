"""Tables of disputes: `disputes` (one objection about a subject), `dispute_records` (which
records it covers and each owner's answer) and `dispute_events` (its append-only history)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp, uuid_pk

REASONS = ("not_mine", "wrong_status", "wrong_amount", "already_settled", "identity_theft", "other")


def _one_of(column_name: str, values: tuple[str, ...]) -> str:
    return f"{column_name} IN ({','.join(repr(v) for v in values)})"


class Dispute(SQLModel, table=True):
    __tablename__ = "disputes"
    __table_args__ = (
        sa.Index("ix_disputes_subject_key", "subject_key"),
        sa.Index("ix_disputes_received_at_id", "received_at", "id"),
        sa.Index("ix_disputes_filed_by_received_at", "filed_by", "received_at"),
        sa.Index("ix_disputes_open_deadline", "deadline", postgresql_where=sa.text("status = 'open'")),
        sa.CheckConstraint("octet_length(subject_key) = 32", name="subject_key_length"),
        sa.CheckConstraint(_one_of("reason", REASONS), name="reason_known"),
        sa.CheckConstraint("status IN ('open','resolved')", name="status_known"),
        sa.CheckConstraint(
            "(status = 'open' AND resolution IS NULL) OR "
            "(status = 'resolved' AND resolution IN ('upheld','rejected','unverifiable'))",
            name="resolution_matches_status",
        ),
        sa.CheckConstraint("char_length(statement) BETWEEN 1 AND 2000", name="statement_length"),
    )

    id: uuid.UUID | None = uuid_pk()
    subject_key: bytes = column(pg.BYTEA)
    filed_by: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    reason: str = column(sa.Text)
    statement: str = column(sa.Text)
    status: str = column(sa.Text, server_default="open")
    received_at: datetime = column(sa.TIMESTAMP(timezone=True))
    deadline: datetime = column(sa.TIMESTAMP(timezone=True))
    records_covered: int = column(sa.Integer)
    resolution: str | None = column(sa.Text, nullable=True)
    resolution_note: str | None = column(sa.Text, nullable=True)
    resolved_at: datetime | None = column(sa.TIMESTAMP(timezone=True), nullable=True)
    # When the association was told the dispute went past its deadline unresolved (once).
    overdue_notified_at: datetime | None = column(sa.TIMESTAMP(timezone=True), nullable=True)
    created_at: datetime | None = timestamp()


class DisputeRecord(SQLModel, table=True):
    __tablename__ = "dispute_records"
    __table_args__ = (
        sa.Index("ix_dispute_records_record_id", "record_id"),
        sa.Index("ix_dispute_records_member_id_dispute_id", "member_id", "dispute_id"),
        sa.CheckConstraint("action IS NULL OR action IN ('confirm','correct')", name="action_known"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('corrected','suppressed','kept','superseded','unlinked')",
            name="outcome_known",
        ),
    )

    dispute_id: uuid.UUID = column(
        pg.UUID(as_uuid=True), sa.ForeignKey("disputes.id", ondelete="CASCADE"), primary_key=True
    )
    # Retention deletes an expired record together with its place in any dispute.
    record_id: uuid.UUID = column(
        pg.UUID(as_uuid=True), sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True))
    action: str | None = column(sa.Text, nullable=True)
    note: str | None = column(sa.Text, nullable=True)
    correction: dict | None = column(pg.JSONB, nullable=True)
    responded_at: datetime | None = column(sa.TIMESTAMP(timezone=True), nullable=True)
    outcome: str | None = column(sa.Text, nullable=True)


class DisputeEvent(SQLModel, table=True):
    __tablename__ = "dispute_events"
    __table_args__ = (
        sa.Index("ix_dispute_events_dispute_id_id", "dispute_id", "id"),
        sa.CheckConstraint("kind IN ('filed','response','resolved')", name="kind_known"),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    dispute_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("disputes.id", ondelete="CASCADE"))
    at: datetime = column(sa.TIMESTAMP(timezone=True))
    member_id: uuid.UUID | None = column(pg.UUID(as_uuid=True), nullable=True)
    kind: str = column(sa.Text)
    record_id: uuid.UUID | None = column(pg.UUID(as_uuid=True), nullable=True)
    details: dict = column(pg.JSONB, server_default=sa.text("'{}'::jsonb"))
