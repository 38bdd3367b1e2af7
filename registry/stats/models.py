"""What the statistics keep so that they need not read every record: the `record_tallies`
ledger and the partial indexes the time-dependent figures and the inquiry windows read.

`record_tallies` holds signed changes to the per-member counts and sums of records that are
neither withdrawn nor suppressed, keyed by (member, product, status, currency). Triggers on
`records` append one row per key a statement changes (insert-only, so concurrent writers
never wait on each other); a periodic job folds each key's rows into one. The figures are
the sum of a key's rows, exact at every moment; what depends on the day (expiry, the 30 days
before a delinquency counts as uncollected) is corrected at read time through the indexes below."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column
from registry.exposure.models import Inquiry
from registry.records.models import Record
from registry.records.parties import VEHICLE_PRODUCTS

# The base of every tally, and the rows a time-dependent correction reads.
TALLIED = "withdrawn_at IS NULL AND NOT suppressed"
# An uncollected record (registry/records/rules.py), as the tallies count it.
UNCOLLECTED = "uncollected"
# A record of a vehicle product that names no vehicle, as the tallies count it (migration 0019).
WITHOUT_VEHICLE = f"product IN ({', '.join(repr(p.value) for p in VEHICLE_PRODUCTS)}) AND NOT names_vehicle"
# A subject is stacked when hard inquiries from this many members fall in the window.
STACKED_MEMBERS = 3


class RecordTally(SQLModel, table=True):
    __tablename__ = "record_tallies"
    __table_args__ = (sa.Index("ix_record_tallies_member_id", "member_id"),)

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    product: str = column(sa.Text)
    status: str = column(sa.Text)
    currency: str = column(sa.CHAR(3))
    live: int = column(sa.BigInteger)
    overdue_minor: int = column(sa.BigInteger)
    # Uncollected records (registry/records/rules.py) and their overdue sum.
    candidates: int = column(sa.BigInteger)
    candidate_overdue_minor: int = column(sa.BigInteger)
    # Records of a vehicle product that name no vehicle (data quality, issue 15; migration 0019).
    without_vehicle: int = column(sa.BigInteger, server_default=sa.text("0"))


class InquiryDay(SQLModel, table=True):
    """Inquiries of one closed UTC day by member and purpose, rolled up once the day can no
    longer change (inquiries are written at the current time and only purged by retention)."""

    __tablename__ = "inquiry_days"
    # A member's days (its monthly series); the primary key serves the industry's window.
    __table_args__ = (sa.Index("ix_inquiry_days_member_id_day", "member_id", "day"),)

    day: date = column(sa.Date, primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    purpose: str = column(sa.Text, primary_key=True)
    inquiries: int = column(sa.BigInteger)


class InquiryRollupState(SQLModel, table=True):
    """One row: the closed days held in `inquiry_days` (`rolled_from` to `rolled_through`,
    every day between them), and the first day of the stacking window that `stacking_pairs`
    and `stacking_subjects` hold (`pairs_from` to `rolled_through`)."""

    __tablename__ = "inquiry_rollup_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)

    id: int = column(sa.SmallInteger, primary_key=True, server_default=sa.text("1"))
    rolled_from: date = column(sa.Date)
    rolled_through: date = column(sa.Date)
    pairs_from: date = column(sa.Date)


class StackingPair(SQLModel, table=True):
    """A (subject, member) pair of hard inquiries on a rolled-up day of the stacking window,
    with the last such day; pairs whose last day leaves the window are deleted."""

    __tablename__ = "stacking_pairs"
    __table_args__ = (sa.Index("ix_stacking_pairs_last_day", "last_day"),)

    subject_key: bytes = column(pg.BYTEA, primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), primary_key=True)
    last_day: date = column(sa.Date)


class StackingSubject(SQLModel, table=True):
    """How many members' pairs a subject has in `stacking_pairs`; stacked from 3."""

    __tablename__ = "stacking_subjects"
    __table_args__ = (
        sa.Index(
            "ix_stacking_subjects_stacked", "subject_key", postgresql_where=sa.text(f"members >= {STACKED_MEMBERS}")
        ),
    )

    subject_key: bytes = column(pg.BYTEA, primary_key=True)
    members: int = column(sa.Integer)


_records = Record.__table__  # type: ignore[attr-defined]
_inquiries = Inquiry.__table__  # type: ignore[attr-defined]

STATS_INDEXES = (
    # Tallied records that have expired (at most a day's worth while retention runs daily).
    sa.Index(
        "ix_records_expires_on_tallied",
        _records.c.expires_on,
        postgresql_where=sa.text(f"{TALLIED} AND expires_on IS NOT NULL"),
    ),
    # Each member's newest as_of, read backwards until a record that has not expired.
    sa.Index(
        "ix_records_member_id_as_of_tallied", _records.c.member_id, _records.c.as_of, postgresql_where=sa.text(TALLIED)
    ),
    # The monthly series of delinquencies that started.
    sa.Index(
        "ix_records_member_id_delinquent_since_tallied",
        _records.c.member_id,
        _records.c.delinquent_since,
        postgresql_where=sa.text(f"{TALLIED} AND delinquent_since IS NOT NULL"),
    ),
    # Loan stacking: hard inquiries of the window, read from the index alone.
    sa.Index(
        "ix_inquiries_at_hard",
        _inquiries.c.at,
        postgresql_include=["member_id", "subject_key"],
        postgresql_where=sa.text("hard"),
    ),
)
