"""collection outcomes: branch, last collection action, recovered amount, arrangement, and one
rule of "uncollected"

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"Uncollected" rested on one self-reported field (`collection_stage = 'none'`), judged against
the day of the question. Records now carry what collection actually does
(`last_collection_action_on`, `recovered_minor`), a hardship `arrangement` agreed with the
borrower, and the `branch_code` that holds the account. An account is uncollected when it is
delinquent, has been delinquent more than 30 days on its `as_of`, is under no arrangement,
and no collection action falls in the 30 days up to its `as_of` (registry/records/rules.py).
That needs no clock, so it is a stored column generated on every write, and everything reads
it: the exposure statement (version 3, which also counts other institutions' accounts
`in_arrangement`), the statistics' tallies (which drop their day-by-day correction) and, next,
the scorecards and the worklist. Existing rows have no action date: they count by the new
rule at once.

Adding the stored column rewrites `records`; on a large live registry schedule it.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).parents[1] / "sql"
SIGNATURE = "uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer, bigint, bytea"
RESULT_V2 = """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean,
    institutions_reporting bigint, institutions_delinquent bigint, accounts_total bigint,
    accounts_delinquent bigint, worst smallint, latest_delinquent_since date, uncollected bigint,
    disputed boolean, by_status jsonb, by_product jsonb, amounts jsonb, worst_24m smallint,
    own_accounts bigint, own_delinquent bigint, own_worst smallint,
    last_30d bigint, last_90d bigint, institutions_30d bigint, institutions_90d bigint
"""
RESULT_V3 = RESULT_V2.replace(
    "uncollected bigint,\n    disputed boolean", "uncollected bigint,\n    in_arrangement bigint, disputed boolean"
)

# Frozen copy of registry.records.rules.UNCOLLECTED (tests/records/test_collection_outcomes.py proves
# they are equal).
UNCOLLECTED = (
    "status IN ('dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_91_180', 'dpd_over_180', 'written_off')"
    " AND delinquent_since IS NOT NULL AND delinquent_since < as_of - 30 AND arrangement = 'none'"
    " AND (last_collection_action_on IS NULL OR last_collection_action_on < as_of - 30)"
)

TALLIED = "withdrawn_at IS NULL AND NOT suppressed"
OLD_CANDIDATE = "severity >= 3 AND collection_stage = 'none' AND delinquent_since IS NOT NULL"


def _tally(candidate: str) -> str:
    """The statement-level trigger's insert (as migration 0008 wrote it), with `candidate`
    deciding which records count as uncollected."""
    return f"""
INSERT INTO record_tallies (member_id, product, status, currency, live, overdue_minor, candidates,
                            candidate_overdue_minor)
SELECT member_id, product, status, currency, sum(sign), sum(sign * overdue_minor),
       coalesce(sum(sign) FILTER (WHERE {candidate}), 0),
       coalesce(sum(sign * overdue_minor) FILTER (WHERE {candidate}), 0)
FROM (%s) changed
WHERE {TALLIED}
GROUP BY member_id, product, status, currency
HAVING sum(sign) <> 0 OR sum(sign * overdue_minor) <> 0 OR coalesce(sum(sign) FILTER (WHERE {candidate}), 0) <> 0
    OR coalesce(sum(sign * overdue_minor) FILTER (WHERE {candidate}), 0) <> 0
"""


def _follow(candidate: str) -> None:
    tally = _tally(candidate)
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
    # The ledger again from the records themselves, under the rule in force.
    op.execute("DELETE FROM record_tallies")
    op.execute(tally % "SELECT *, 1 AS sign FROM records")


def _exposure(result: str, statement_file: str) -> None:
    op.execute(f"DROP FUNCTION registry_exposure({SIGNATURE})")
    op.execute(
        f"""
        CREATE FUNCTION registry_exposure({SIGNATURE}) RETURNS TABLE ({result})
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
        AS $registry_exposure$
        #variable_conflict use_column
        BEGIN
            IF NOT coalesce(registry_proof_ok($1, false, $9, $13, $14), false) THEN
                RAISE EXCEPTION 'registry: the context proof is not valid' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY
            {(SQL / statement_file).read_text().rstrip().rstrip(";")};
        END
        $registry_exposure$
        """
    )
    op.execute(f"ALTER FUNCTION registry_exposure({SIGNATURE}) OWNER TO registry_owner")
    op.execute(f"REVOKE ALL ON FUNCTION registry_exposure({SIGNATURE}) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registry_exposure({SIGNATURE}) TO registry_app")


def upgrade() -> None:
    op.add_column("records", sa.Column("branch_code", sa.Text(), nullable=True))
    op.add_column("records", sa.Column("last_collection_action_on", sa.Date(), nullable=True))
    op.add_column("records", sa.Column("recovered_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.add_column("records", sa.Column("arrangement", sa.Text(), server_default=sa.text("'none'"), nullable=False))
    op.add_column(
        "records", sa.Column("uncollected", sa.Boolean(), sa.Computed(UNCOLLECTED, persisted=True), nullable=False)
    )
    op.create_check_constraint(op.f("ck_records_recovered_non_negative"), "records", "recovered_minor >= 0")
    op.create_check_constraint(
        op.f("ck_records_arrangement_known"),
        "records",
        "arrangement IN ('none','payment_plan','extension','restructure')",
    )
    op.create_check_constraint(
        op.f("ck_records_branch_code_format"), "records", "branch_code ~ '^[A-Za-z0-9._-]{1,32}$'"
    )
    # The day-by-day correction of "not 30 days old yet" is gone with the rule that needed it.
    op.drop_index("ix_records_delinquent_since_uncollected", table_name="records")
    _follow("uncollected")
    _exposure(RESULT_V3, "registry_exposure_v3.sql")


def downgrade() -> None:
    _exposure(RESULT_V2, "registry_exposure_v2.sql")
    op.execute("DELETE FROM record_tallies")  # rebuilt below without the new column
    op.drop_constraint(op.f("ck_records_branch_code_format"), "records", type_="check")
    op.drop_constraint(op.f("ck_records_arrangement_known"), "records", type_="check")
    op.drop_constraint(op.f("ck_records_recovered_non_negative"), "records", type_="check")
    op.drop_column("records", "uncollected")
    op.drop_column("records", "arrangement")
    op.drop_column("records", "recovered_minor")
    op.drop_column("records", "last_collection_action_on")
    op.drop_column("records", "branch_code")
    _follow(OLD_CANDIDATE)
    op.create_index(
        "ix_records_delinquent_since_uncollected",
        "records",
        ["delinquent_since"],
        unique=False,
        postgresql_where=sa.text(f"{TALLIED} AND {OLD_CANDIDATE}"),
    )
