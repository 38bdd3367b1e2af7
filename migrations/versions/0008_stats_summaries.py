"""statistics summaries: the record tallies ledger, its triggers, and the statistics' indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28

`record_tallies` holds signed per-member counts and sums of the records that are neither
withdrawn nor suppressed; statement-level triggers on `records` append one row per key a
statement changes (from its transition tables, so a batch costs one insert), the service
folds them periodically. Existing records are tallied here once. Partial indexes serve the
time-dependent corrections, each member's newest `as_of`, the monthly series and the
inquiry windows (index-only). On a large live registry create the indexes CONCURRENTLY
beforehand under these names; this migration then only adds the ledger.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLIED = "withdrawn_at IS NULL AND NOT suppressed"
# 3 is the severity of dpd_1_30, the first delinquent status.
CANDIDATE = "severity >= 3 AND collection_stage = 'none' AND delinquent_since IS NOT NULL"
CONDITION = "(SELECT registry_is_association()) OR member_id = (SELECT registry_current_member())"

# One signed row per key: `sign` is +1 for rows entering the tally, -1 for rows leaving it.
TALLY = f"""
INSERT INTO record_tallies (member_id, product, status, currency, live, overdue_minor, candidates,
                            candidate_overdue_minor)
SELECT member_id, product, status, currency, sum(sign), sum(sign * overdue_minor),
       coalesce(sum(sign) FILTER (WHERE {CANDIDATE}), 0),
       coalesce(sum(sign * overdue_minor) FILTER (WHERE {CANDIDATE}), 0)
FROM (%s) changed
WHERE {TALLIED}
GROUP BY member_id, product, status, currency
HAVING sum(sign) <> 0 OR sum(sign * overdue_minor) <> 0 OR coalesce(sum(sign) FILTER (WHERE {CANDIDATE}), 0) <> 0
    OR coalesce(sum(sign * overdue_minor) FILTER (WHERE {CANDIDATE}), 0) <> 0
"""
ADDED = "SELECT *, 1 AS sign FROM added"
REMOVED = "SELECT *, -1 AS sign FROM removed"


def upgrade() -> None:
    op.create_table(
        "record_tallies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("live", sa.BigInteger(), nullable=False),
        sa.Column("overdue_minor", sa.BigInteger(), nullable=False),
        sa.Column("candidates", sa.BigInteger(), nullable=False),
        sa.Column("candidate_overdue_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_record_tallies_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_tallies")),
    )
    op.create_index("ix_record_tallies_member_id", "record_tallies", ["member_id"], unique=False)
    op.execute(
        f"""
        CREATE FUNCTION record_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
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
    op.execute(
        "CREATE TRIGGER record_tallies_insert AFTER INSERT ON records REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION record_tallies_follow()"
    )
    op.execute(
        "CREATE TRIGGER record_tallies_update AFTER UPDATE ON records REFERENCING OLD TABLE AS removed "
        "NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION record_tallies_follow()"
    )
    op.execute(
        "CREATE TRIGGER record_tallies_delete AFTER DELETE ON records REFERENCING OLD TABLE AS removed "
        "FOR EACH STATEMENT EXECUTE FUNCTION record_tallies_follow()"
    )
    op.execute(
        "CREATE FUNCTION record_tallies_clear() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN DELETE FROM record_tallies; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER record_tallies_truncate AFTER TRUNCATE ON records "
        "FOR EACH STATEMENT EXECUTE FUNCTION record_tallies_clear()"
    )
    op.execute(TALLY % "SELECT *, 1 AS sign FROM records")

    op.execute("ALTER TABLE record_tallies ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE record_tallies FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY member_rows ON record_tallies USING ({CONDITION}) WITH CHECK ({CONDITION})")
    # The triggers run as the writer: the service's role appends; folding is the owner's job.
    op.execute("GRANT SELECT, INSERT ON record_tallies TO registry_app")
    op.execute("GRANT ALL ON record_tallies TO registry_owner")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE record_tallies_id_seq TO registry_app, registry_owner")

    op.create_index(
        "ix_records_expires_on_tallied",
        "records",
        ["expires_on"],
        unique=False,
        postgresql_where=sa.text(f"{TALLIED} AND expires_on IS NOT NULL"),
    )
    op.create_index(
        "ix_records_delinquent_since_uncollected",
        "records",
        ["delinquent_since"],
        unique=False,
        postgresql_where=sa.text(f"{TALLIED} AND {CANDIDATE}"),
    )
    op.create_index(
        "ix_records_member_id_as_of_tallied",
        "records",
        ["member_id", "as_of"],
        unique=False,
        postgresql_where=sa.text(TALLIED),
    )
    op.create_index(
        "ix_records_member_id_delinquent_since_tallied",
        "records",
        ["member_id", "delinquent_since"],
        unique=False,
        postgresql_where=sa.text(f"{TALLIED} AND delinquent_since IS NOT NULL"),
    )
    op.create_index(
        "ix_inquiries_at_hard",
        "inquiries",
        ["at"],
        unique=False,
        postgresql_include=["member_id", "subject_key"],
        postgresql_where=sa.text("hard"),
    )
    op.drop_index("ix_inquiries_member_id_at", table_name="inquiries")
    op.create_index(
        "ix_inquiries_member_id_at", "inquiries", ["member_id", "at"], unique=False, postgresql_include=["purpose"]
    )


def downgrade() -> None:
    op.drop_index("ix_inquiries_member_id_at", table_name="inquiries")
    op.create_index("ix_inquiries_member_id_at", "inquiries", ["member_id", "at"], unique=False)
    op.drop_index("ix_inquiries_at_hard", table_name="inquiries")
    for name in (
        "ix_records_member_id_delinquent_since_tallied",
        "ix_records_member_id_as_of_tallied",
        "ix_records_delinquent_since_uncollected",
        "ix_records_expires_on_tallied",
    ):
        op.drop_index(name, table_name="records")
    for trigger in (
        "record_tallies_truncate",
        "record_tallies_delete",
        "record_tallies_update",
        "record_tallies_insert",
    ):
        op.execute(f"DROP TRIGGER {trigger} ON records")
    op.execute("DROP FUNCTION record_tallies_clear()")
    op.execute("DROP FUNCTION record_tallies_follow()")
    op.drop_index("ix_record_tallies_member_id", table_name="record_tallies")
    op.drop_table("record_tallies")
