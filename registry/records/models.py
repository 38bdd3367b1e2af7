"""Tables of the records domain: `records` (current state of each reported account) and
`record_events` (append-only history of every accepted change)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp, uuid_pk
from registry.records.rules import UNCOLLECTED
from registry.records.vocabulary import severity_sql


class Record(SQLModel, table=True):
    __tablename__ = "records"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "account_ref"),
        sa.Index("ix_records_subject_key", "subject_key"),
        sa.Index("ix_records_member_id_created_at_id", "member_id", "created_at", "id"),
        sa.CheckConstraint("octet_length(subject_key) = 32", name="subject_key_length"),
        sa.CheckConstraint("overdue_minor <= outstanding_minor", name="overdue_within_outstanding"),
        sa.CheckConstraint(
            "principal_minor >= 0 AND outstanding_minor >= 0 AND overdue_minor >= 0", name="amounts_non_negative"
        ),
        sa.CheckConstraint("recovered_minor >= 0", name="recovered_non_negative"),
        sa.CheckConstraint(
            "arrangement IN ('none','payment_plan','extension','restructure')", name="arrangement_known"
        ),
        sa.CheckConstraint("branch_code ~ '^[A-Za-z0-9._-]{1,32}$'", name="branch_code_format"),
    )

    # Time-ordered (UUIDv7, migration 0009): bulk loads append to the indexes holding ids.
    id: uuid.UUID | None = uuid_pk("registry_ordered_uuid()")
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    account_ref: str = column(sa.Text)
    subject_key: bytes = column(pg.BYTEA)
    subject_type: str = column(sa.Text)
    product: str = column(sa.Text)
    status: str = column(sa.Text)
    severity: int | None = column(sa.SmallInteger, sa.Computed(severity_sql(), persisted=True))
    collection_stage: str = column(sa.Text)
    currency: str = column(sa.CHAR(3))
    principal_minor: int = column(sa.BigInteger)
    outstanding_minor: int = column(sa.BigInteger)
    overdue_minor: int = column(sa.BigInteger)
    opened_on: date | None = column(sa.Date, nullable=True)
    delinquent_since: date | None = column(sa.Date, nullable=True)
    notice_sent_on: date | None = column(sa.Date, nullable=True)
    closed_on: date | None = column(sa.Date, nullable=True)
    as_of: date = column(sa.Date)
    branch_code: str | None = column(sa.Text, nullable=True)
    last_collection_action_on: date | None = column(sa.Date, nullable=True)
    recovered_minor: int = column(sa.BigInteger, server_default=sa.text("0"))
    arrangement: str = column(sa.Text, server_default=sa.text("'none'"))
    # The one rule of an uncollected account (registry/records/rules.py), kept with the row.
    uncollected: bool | None = column(sa.Boolean, sa.Computed(UNCOLLECTED, persisted=True))
    ever_delinquent: bool = column(sa.Boolean, server_default=sa.false())
    delinquency_ended_on: date | None = column(sa.Date, nullable=True)
    expires_on: date | None = column(sa.Date, nullable=True)
    disputed: bool = column(sa.Boolean, server_default=sa.false())
    # Maintained by the disputes service: the earliest deadline of the open disputes covering
    # the record (past it, exposure answers leave the record out) and suppression for good.
    dispute_deadline: datetime | None = timestamp(nullable=True, default_now=False)
    suppressed: bool = column(sa.Boolean, server_default=sa.false())
    withdrawn_at: datetime | None = timestamp(nullable=True, default_now=False)
    content_hash: bytes = column(pg.BYTEA)
    # The keyed digest of the upload line that wrote this content (registry/uploads/line_digests.py),
    # NULL when it came another way: a re-uploaded line with the same digest is known
    # unchanged without being validated again. Cleared by a trigger whenever the content
    # changes without a new digest (migration 0018).
    line_digest: bytes | None = column(pg.BYTEA, nullable=True)
    # Whether the report names a vehicle (`record_collateral` holds it): written by the upsert,
    # the collateral's one writer, so the statistics' ledger can count vehicle accounts without one.
    names_vehicle: bool = column(sa.Boolean, server_default=sa.false())
    version: int = column(sa.Integer, server_default=sa.text("1"))
    created_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()


class RecordEvent(SQLModel, table=True):
    __tablename__ = "record_events"
    __table_args__ = (
        sa.Index("ix_record_events_record_id_id", "record_id", "id"),
        sa.Index("ix_record_events_subject_key_as_of", "subject_key", "as_of"),
        sa.CheckConstraint("kind IN ('created','updated','withdrawn')", name="kind_known"),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    record_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("records.id", ondelete="CASCADE"))
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True))
    subject_key: bytes = column(pg.BYTEA)
    kind: str = column(sa.Text)
    version: int = column(sa.Integer)
    status: str = column(sa.Text)
    severity: int = column(sa.SmallInteger)
    as_of: date = column(sa.Date)
    snapshot: dict = column(pg.JSONB)
    at: datetime | None = timestamp()
