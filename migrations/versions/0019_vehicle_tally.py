"""the statistics count vehicle accounts that name no vehicle in their ledger, not by reading them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

`vehicle_accounts_without_collateral` (issue 15's data-quality figure) was counted at request
time over every live auto-loan and lease account, with an anti-join on `record_collateral`:
a quarter of the records at each statistics request, 1.5 s of the answer at ten million. The
records upsert is the only writer of a record's collateral, so it now also says on the record
whether the report names a vehicle (`records.names_vehicle`), and the `record_tallies` ledger
counts, per key, the tallied records of a vehicle product that do not
(`record_tallies.without_vehicle`). The statistics read the ledger, as they do every other
record figure.

The backfill sets the flag from `record_collateral` and rebuilds the ledger from the records,
as migration 0013 did: on a large live registry schedule it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLIED = "withdrawn_at IS NULL AND NOT suppressed"
# Frozen copy of registry.records.parties.VEHICLE_PRODUCTS.
WITHOUT_VEHICLE = "product IN ('auto_loan', 'financial_lease') AND NOT names_vehicle"


def _tally(without_vehicle: bool) -> str:
    """The statement-level trigger's insert (as migration 0013 left it), counting records
    without a vehicle when `without_vehicle`."""
    column = ", without_vehicle" if without_vehicle else ""
    value = f",\n       coalesce(sum(sign) FILTER (WHERE {WITHOUT_VEHICLE}), 0)" if without_vehicle else ""
    having = f"\n    OR coalesce(sum(sign) FILTER (WHERE {WITHOUT_VEHICLE}), 0) <> 0" if without_vehicle else ""
    return f"""
INSERT INTO record_tallies (member_id, product, status, currency, live, overdue_minor, candidates,
                            candidate_overdue_minor{column})
SELECT member_id, product, status, currency, sum(sign), sum(sign * overdue_minor),
       coalesce(sum(sign) FILTER (WHERE uncollected), 0),
       coalesce(sum(sign * overdue_minor) FILTER (WHERE uncollected), 0){value}
FROM (%s) changed
WHERE {TALLIED}
GROUP BY member_id, product, status, currency
HAVING sum(sign) <> 0 OR sum(sign * overdue_minor) <> 0 OR coalesce(sum(sign) FILTER (WHERE uncollected), 0) <> 0
    OR coalesce(sum(sign * overdue_minor) FILTER (WHERE uncollected), 0) <> 0{having}
"""


def _follow(without_vehicle: bool) -> None:
    tally = _tally(without_vehicle)
    added, removed = "SELECT *, 1 AS sign FROM added", "SELECT *, -1 AS sign FROM removed"
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION record_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {tally % added};
            ELSIF TG_OP = 'DELETE' THEN
                {tally % removed};
            ELSE
                {tally % (added + " UNION ALL " + removed)};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute("DELETE FROM record_tallies")
    op.execute(tally % "SELECT *, 1 AS sign FROM records")


def upgrade() -> None:
    op.add_column("records", sa.Column("names_vehicle", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column(
        "record_tallies", sa.Column("without_vehicle", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.execute("UPDATE records r SET names_vehicle = true FROM record_collateral c WHERE c.record_id = r.id")
    _follow(True)


def downgrade() -> None:
    _follow(False)
    op.drop_column("record_tallies", "without_vehicle")
    op.drop_column("records", "names_vehicle")
