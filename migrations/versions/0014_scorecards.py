"""scorecards: per-branch tallies, monthly snapshots, association thresholds and alerts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

`branch_tallies` holds signed per (member, branch, currency) counts and sums of the records
that are neither withdrawn nor suppressed: live, delinquent, uncollected (the stored rule of
migration 0013), and of the delinquent the overdue and recovered amounts. Statement-level
triggers on `records` append one row per key a statement changes, in the writer's
transaction (as `record_tallies` does, migration 0008), so the scorecards and the league
table read a few thousand rows, never the records, and are exact after every commit.
`scorecard_months` keeps each member's figures as the daily check saw them in each month.
`association_thresholds` and `threshold_states` hold the association's limits and, per
member and figure, whether the limit stands crossed, so each crossing alerts once.
Association alerts are rows of `alerts` for the association's own member (feed and webhook
outbox reused), with three new kinds and a `details` column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLIED = "withdrawn_at IS NULL AND NOT suppressed"
DELINQUENT = "severity >= 3"  # dpd_1_30 and worse (registry/records/vocabulary.py)
MEMBER_ROWS = "(SELECT registry_is_association()) OR member_id = (SELECT registry_current_member())"
ASSOCIATION_ONLY = "(SELECT registry_is_association())"

# The alerts constraints before and after this revision, in full (the lead unions kinds at merge).
ALERT_KIND_KNOWN_BEFORE = "kind IN ('new_delinquency','worsened','hard_inquiry','audit_checkpoint')"
ALERT_SHAPE_BEFORE = (
    "CASE WHEN kind = 'audit_checkpoint' "
    "THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND subject_sealed IS NULL AND source_member_id IS NULL "
    "ELSE checkpoint_id IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NOT NULL "
    "AND source_member_id IS NOT NULL END"
)
ASSOCIATION_KINDS = "'member.threshold_crossed','member.threshold_cleared','dispute.overdue'"
ALERT_KIND_KNOWN = f"kind IN ('new_delinquency','worsened','hard_inquiry','audit_checkpoint',{ASSOCIATION_KINDS})"
ALERT_SHAPE = (
    "CASE WHEN kind = 'audit_checkpoint' "
    "THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND subject_sealed IS NULL "
    "AND source_member_id IS NULL AND details IS NULL "
    f"WHEN kind IN ({ASSOCIATION_KINDS}) "
    "THEN checkpoint_id IS NULL AND subject_key IS NULL AND subject_sealed IS NULL AND details IS NOT NULL "
    "ELSE checkpoint_id IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NOT NULL "
    "AND source_member_id IS NOT NULL AND details IS NULL END"
)

_SUMS = {
    "live": "sum(sign)",
    "delinquent": f"coalesce(sum(sign) FILTER (WHERE {DELINQUENT}), 0)",
    "uncollected": "coalesce(sum(sign) FILTER (WHERE uncollected), 0)",
    "overdue_minor": f"coalesce(sum(sign * overdue_minor) FILTER (WHERE {DELINQUENT}), 0)",
    "recovered_minor": f"coalesce(sum(sign * recovered_minor) FILTER (WHERE {DELINQUENT}), 0)",
}
# One signed row per key: `sign` is +1 for rows entering the tally, -1 for rows leaving it.
TALLY = f"""
INSERT INTO branch_tallies (member_id, branch_code, currency, {", ".join(_SUMS)})
SELECT member_id, branch_code, currency, {", ".join(_SUMS.values())}
FROM (%s) changed
WHERE {TALLIED}
GROUP BY member_id, branch_code, currency
HAVING {" OR ".join(f"{s} <> 0" for s in _SUMS.values())}
"""
ADDED = "SELECT *, 1 AS sign FROM added"
REMOVED = "SELECT *, -1 AS sign FROM removed"


def upgrade() -> None:
    op.create_table(
        "branch_tallies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("branch_code", sa.Text(), nullable=True),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("live", sa.BigInteger(), nullable=False),
        sa.Column("delinquent", sa.BigInteger(), nullable=False),
        sa.Column("uncollected", sa.BigInteger(), nullable=False),
        sa.Column("overdue_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovered_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_branch_tallies_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_tallies")),
    )
    op.create_index("ix_branch_tallies_member_id", "branch_tallies", ["member_id"], unique=False)
    op.execute(
        f"""
        CREATE FUNCTION branch_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {TALLY % ADDED};
            ELSIF TG_OP = 'DELETE' THEN
                {TALLY % REMOVED};
            ELSE
                {TALLY % (ADDED + " UNION ALL " + REMOVED)};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for event, transition in (
        ("insert", "NEW TABLE AS added"),
        ("update", "OLD TABLE AS removed NEW TABLE AS added"),
        ("delete", "OLD TABLE AS removed"),
    ):
        op.execute(
            f"CREATE TRIGGER branch_tallies_{event} AFTER {event.upper()} ON records REFERENCING {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION branch_tallies_follow()"
        )
    op.execute(
        "CREATE FUNCTION branch_tallies_clear() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN DELETE FROM branch_tallies; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER branch_tallies_truncate AFTER TRUNCATE ON records "
        "FOR EACH STATEMENT EXECUTE FUNCTION branch_tallies_clear()"
    )
    op.execute(TALLY % "SELECT *, 1 AS sign FROM records")
    op.execute("ALTER TABLE branch_tallies ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE branch_tallies FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY member_rows ON branch_tallies USING ({MEMBER_ROWS}) WITH CHECK ({MEMBER_ROWS})")
    # The triggers run as the writer: the service's role appends; folding is the owner's job.
    op.execute("GRANT SELECT, INSERT ON branch_tallies TO registry_app")
    op.execute("GRANT ALL ON branch_tallies TO registry_owner")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE branch_tallies_id_seq TO registry_app, registry_owner")

    op.create_table(
        "scorecard_months",
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("taken_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_scorecard_months_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "month", name=op.f("pk_scorecard_months")),
    )
    op.create_table(
        "association_thresholds",
        sa.Column("figure", sa.Text(), nullable=False),
        sa.Column("limit_value", sa.Float(precision=53), nullable=False),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "figure IN ('delinquency_rate', 'uncollected_rate', 'recovery_rate', 'reporting_age_days')",
            name=op.f("ck_association_thresholds_figure_known"),
        ),
        sa.PrimaryKeyConstraint("figure", name=op.f("pk_association_thresholds")),
    )
    op.create_table(
        "threshold_states",
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("figure", sa.Text(), nullable=False),
        sa.Column("crossed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_threshold_states_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "figure", name=op.f("pk_threshold_states")),
    )
    for table, condition, grant in (
        ("scorecard_months", MEMBER_ROWS, "SELECT"),
        ("association_thresholds", ASSOCIATION_ONLY, "SELECT, INSERT, UPDATE, DELETE"),
        ("threshold_states", ASSOCIATION_ONLY, "SELECT"),
    ):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_rows ON {table} USING ({condition}) WITH CHECK ({condition})")
        op.execute(f"GRANT {grant} ON {table} TO registry_app")
        op.execute(f"GRANT ALL ON {table} TO registry_owner")

    op.create_index(
        "ix_records_member_id_branch_code_as_of_tallied",
        "records",
        ["member_id", "branch_code", "as_of"],
        unique=False,
        postgresql_where=sa.text(TALLIED),
    )
    op.create_index(
        "ix_records_member_id_branch_code_uncollected",
        "records",
        ["member_id", "branch_code"],
        unique=False,
        postgresql_where=sa.text("uncollected AND withdrawn_at IS NULL"),
    )

    op.add_column("alerts", sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", ALERT_KIND_KNOWN)
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", ALERT_SHAPE)


def downgrade() -> None:
    op.execute(f"DELETE FROM alerts WHERE kind IN ({ASSOCIATION_KINDS})")
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", ALERT_KIND_KNOWN_BEFORE)
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", ALERT_SHAPE_BEFORE)
    op.drop_column("alerts", "details")
    op.drop_index("ix_records_member_id_branch_code_uncollected", table_name="records")
    op.drop_index("ix_records_member_id_branch_code_as_of_tallied", table_name="records")
    op.drop_table("threshold_states")
    op.drop_table("association_thresholds")
    op.drop_table("scorecard_months")
    for event in ("truncate", "delete", "update", "insert"):
        op.execute(f"DROP TRIGGER branch_tallies_{event} ON records")
    op.execute("DROP FUNCTION branch_tallies_clear()")
    op.execute("DROP FUNCTION branch_tallies_follow()")
    op.drop_index("ix_branch_tallies_member_id", table_name="branch_tallies")
    op.drop_table("branch_tallies")
