"""What the scorecards keep: the `branch_tallies` ledger (per member, branch and currency,
kept exact by triggers on `records`), the monthly snapshots of each member's figures, the
association's thresholds and, per member and figure, whether a threshold stands crossed.

`branch_tallies` works as `record_tallies` does (registry/stats/models.py): statement-level
triggers append one signed row per key a statement changes, in the writer's transaction, so
a figure read after a commit is never stale; a periodic job folds each key's rows into one.
What depends on the day (records that expired) is subtracted at read time."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp
from registry.records.models import Record

# The figures a threshold may be set on (registry/scorecards/figures.py computes them).
THRESHOLD_FIGURES = ("delinquency_rate", "uncollected_rate", "recovery_rate", "reporting_age_days")
_FIGURE_LIST = ", ".join(f"'{f}'" for f in THRESHOLD_FIGURES)


class BranchTally(SQLModel, table=True):
    __tablename__ = "branch_tallies"
    __table_args__ = (sa.Index("ix_branch_tallies_member_id", "member_id"),)

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    branch_code: str | None = column(sa.Text, nullable=True)
    currency: str = column(sa.CHAR(3))
    live: int = column(sa.BigInteger)
    delinquent: int = column(sa.BigInteger)
    uncollected: int = column(sa.BigInteger)
    # Of the delinquent records: what is overdue and what was recovered.
    overdue_minor: int = column(sa.BigInteger)
    recovered_minor: int = column(sa.BigInteger)


class ScorecardMonth(SQLModel, table=True):
    """A member's figures as the daily check last saw them in a month: the month's row stops
    changing when the month ends."""

    __tablename__ = "scorecard_months"

    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    month: date = column(sa.Date, primary_key=True)
    figures: dict = column(pg.JSONB)
    taken_at: datetime | None = timestamp()


class Threshold(SQLModel, table=True):
    __tablename__ = "association_thresholds"
    __table_args__ = (sa.CheckConstraint(f"figure IN ({_FIGURE_LIST})", name="figure_known"),)

    figure: str = column(sa.Text, primary_key=True)
    limit_value: float = column(sa.Float(precision=53))
    updated_at: datetime | None = timestamp()


class ThresholdState(SQLModel, table=True):
    """Whether a member stands past a threshold: an alert is raised only when this flips."""

    __tablename__ = "threshold_states"

    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    figure: str = column(sa.Text, primary_key=True)
    crossed: bool = column(sa.Boolean)
    changed_at: datetime | None = timestamp()


_records = Record.__table__  # type: ignore[attr-defined]
TALLIED = "withdrawn_at IS NULL AND NOT suppressed"

SCORECARD_INDEXES = (
    # Each branch's newest as_of, read backwards past the few expired records at its top.
    sa.Index(
        "ix_records_member_id_branch_code_as_of_tallied",
        _records.c.member_id,
        _records.c.branch_code,
        _records.c.as_of,
        postgresql_where=sa.text(TALLIED),
    ),
    # The worklist: a member's uncollected accounts, by branch.
    sa.Index(
        "ix_records_member_id_branch_code_uncollected",
        _records.c.member_id,
        _records.c.branch_code,
        postgresql_where=sa.text("uncollected AND withdrawn_at IS NULL"),
    ),
)
