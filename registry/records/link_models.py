"""Tables of what links an account to more than its borrower: `record_parties` (guarantors
and co-borrowers, by subject key) and `record_collateral` (the vehicle pledged, by the
key of its `vin` token). Both are written by the records upsert from the item's snapshot
and belong to the member that owns the record."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp


class RecordParty(SQLModel, table=True):
    __tablename__ = "record_parties"
    __table_args__ = (
        # Contingent exposure reads a subject's links across members: keyed by subject, as records are.
        sa.Index("ix_record_parties_subject_key", "subject_key"),
        sa.CheckConstraint("octet_length(subject_key) = 32", name="subject_key_length"),
        sa.CheckConstraint("role IN ('guarantor','co_borrower')", name="role_known"),
        sa.CheckConstraint("subject_type IN ('individual','enterprise')", name="subject_type_known"),
    )

    record_id: uuid.UUID = column(
        pg.UUID(as_uuid=True), sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    subject_key: bytes = column(pg.BYTEA, primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    subject_type: str = column(sa.Text)
    role: str = column(sa.Text)
    # Set when a dispute by the party was upheld: the link leaves every answer, and a later
    # report of the same account does not bring it back.
    removed_at: datetime | None = timestamp(nullable=True, default_now=False)


class RecordCollateral(SQLModel, table=True):
    __tablename__ = "record_collateral"
    __table_args__ = (
        sa.Index("ix_record_collateral_vehicle_key", "vehicle_key"),
        sa.CheckConstraint("octet_length(vehicle_key) = 32", name="vehicle_key_length"),
        sa.CheckConstraint("kind IN ('vehicle')", name="kind_known"),
    )

    record_id: uuid.UUID = column(
        pg.UUID(as_uuid=True), sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    kind: str = column(sa.Text)
    vehicle_key: bytes = column(pg.BYTEA)
