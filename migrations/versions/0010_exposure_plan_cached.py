"""the exposure function keeps its plan

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

`registry_exposure` was a SQL-language function: PostgreSQL plans its statement afresh on
every call, and for this statement planning (about 2 ms) cost six times its execution for a
single subject. The same statement (migrations/sql/registry_exposure_v1.sql, unchanged)
now runs from PL/pgSQL with `plan_cache_mode = force_generic_plan`: each connection plans
it once and reuses the plan, whose shape (index lookups by subject key) does not depend on
the parameters. Measured on one connection: a single-subject call 2.60 -> 0.57 ms, a
1000-subject call 17.3 -> 16.9 ms. Owner, grants and signature are kept (CREATE OR REPLACE).
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer"
RESULT = """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean,
    institutions_reporting bigint, institutions_delinquent bigint, accounts_total bigint,
    accounts_delinquent bigint, worst smallint, latest_delinquent_since date, uncollected bigint,
    disputed boolean, by_status jsonb, by_product jsonb, amounts jsonb, worst_24m smallint,
    own_accounts bigint, own_delinquent bigint, own_worst smallint,
    last_30d bigint, last_90d bigint, institutions_30d bigint, institutions_90d bigint
"""


def _statement() -> str:
    return (Path(__file__).parents[1] / "sql" / "registry_exposure_v1.sql").read_text().rstrip().rstrip(";")


def upgrade() -> None:
    # The result columns are PL/pgSQL variables too; `use_column` makes the statement's own
    # references (ord, worst, ...) mean its columns, exactly as in the SQL function.
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION registry_exposure({SIGNATURE}) RETURNS TABLE ({RESULT})
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
        AS $registry_exposure$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            {_statement()};
        END
        $registry_exposure$
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION registry_exposure({SIGNATURE}) RETURNS TABLE ({RESULT})
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
        AS $registry_exposure$
        {_statement()}
        $registry_exposure$
        """
    )
