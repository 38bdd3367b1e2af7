"""defence in depth: roles, row-level security, rate limits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Roles (cluster-wide, created once): `registry_app` (NOLOGIN, NOBYPASSRLS, owns nothing)
is what the service runs as; `registry_owner` (NOLOGIN, BYPASSRLS) owns the audit log and
the exposure function. Member-owned tables get FORCE ROW LEVEL SECURITY keyed on the
member the transaction sets (`registry.member_id`), or the association scope
(`registry.scope = 'association'`) for admins and cross-member steps the service takes on
purpose. The policy values are scalar subqueries, so each statement computes them once.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_assertions",
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_client_assertions")),
    )
    # Unlogged: counters are worth less than the write-ahead log they would cost.
    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("window_start", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", "shard", name=op.f("pk_rate_counters")),
        prefixes=["UNLOGGED"],
    )
    _roles_and_grants()
    _row_level_security()
    _exposure_function()


# Tables whose every row belongs to one member, by the `member_id` column.
MEMBER_TABLES = [
    "records",
    "record_events",
    "inquiries",
    "idempotency_keys",
    "watches",
    "alerts",
    "webhooks",
    "webhook_deliveries",
    "upload_jobs",
    "dispute_records",
]
CURRENT_MEMBER = "(SELECT registry_current_member())"
ASSOCIATION = "(SELECT registry_is_association())"


def _roles_and_grants() -> None:
    for role, attributes in (("registry_app", "NOLOGIN NOBYPASSRLS"), ("registry_owner", "NOLOGIN BYPASSRLS")):
        op.execute(f"DO $$ BEGIN CREATE ROLE {role} {attributes}; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    # The login that migrates may act as either (the service's login needs the same grant).
    op.execute("GRANT registry_app, registry_owner TO CURRENT_USER")
    op.execute("GRANT USAGE ON SCHEMA public TO registry_app, registry_owner")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO registry_app")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app, registry_owner")
    op.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO registry_owner")
    # The audit log: the service may append and read, never change; owned by a role no one logs in as.
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM registry_app")
    op.execute("ALTER TABLE audit_log OWNER TO registry_owner")


def _row_level_security() -> None:
    op.execute(
        "CREATE FUNCTION registry_current_member() RETURNS uuid LANGUAGE sql STABLE AS "
        "$$ SELECT nullif(current_setting('registry.member_id', true), '')::uuid $$"
    )
    op.execute(
        "CREATE FUNCTION registry_is_association() RETURNS boolean LANGUAGE sql STABLE AS "
        "$$ SELECT coalesce(current_setting('registry.scope', true), '') = 'association' $$"
    )
    policies = {table: f"{ASSOCIATION} OR member_id = {CURRENT_MEMBER}" for table in MEMBER_TABLES}
    policies["upload_errors"] = f"{ASSOCIATION} OR EXISTS (SELECT 1 FROM upload_jobs j WHERE j.id = job_id)"
    # A dispute is the filer's, and also each member's whose record it covers.
    policies["disputes"] = (
        f"{ASSOCIATION} OR filed_by = {CURRENT_MEMBER} OR EXISTS ("
        f"SELECT 1 FROM dispute_records dr WHERE dr.dispute_id = id AND dr.member_id = {CURRENT_MEMBER})"
    )
    policies["dispute_events"] = f"{ASSOCIATION} OR EXISTS (SELECT 1 FROM disputes d WHERE d.id = dispute_id)"
    for table, condition in policies.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_rows ON {table} USING ({condition}) WITH CHECK ({condition})")


def _exposure_function() -> None:
    body = (Path(__file__).parents[1] / "sql" / "registry_exposure_v1.sql").read_text()
    op.execute(
        f"""
        CREATE FUNCTION registry_exposure(
            uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer
        ) RETURNS TABLE (
            ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean,
            institutions_reporting bigint, institutions_delinquent bigint, accounts_total bigint,
            accounts_delinquent bigint, worst smallint, latest_delinquent_since date, uncollected bigint,
            disputed boolean, by_status jsonb, by_product jsonb, amounts jsonb, worst_24m smallint,
            own_accounts bigint, own_delinquent bigint, own_worst smallint,
            last_30d bigint, last_90d bigint, institutions_30d bigint, institutions_90d bigint
        )
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
        AS $registry_exposure$
        {body}
        $registry_exposure$
        """
    )
    signature = (
        "registry_exposure(uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer)"
    )
    op.execute(f"ALTER FUNCTION {signature} OWNER TO registry_owner")
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO registry_app")


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS registry_exposure(uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer)"
    )
    for table in [*MEMBER_TABLES, "upload_errors", "disputes", "dispute_events"]:
        op.execute(f"DROP POLICY IF EXISTS member_rows ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS registry_current_member()")
    op.execute("DROP FUNCTION IF EXISTS registry_is_association()")
    op.execute("ALTER TABLE audit_log OWNER TO CURRENT_USER")
    # The roles stay: they are shared by every database of the server.
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM registry_app, registry_owner")
    op.execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM registry_app, registry_owner")
    op.drop_table("rate_counters")
    op.drop_table("client_assertions")
