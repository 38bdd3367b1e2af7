"""parties and collateral: guarantors, co-borrowers and pledged vehicles of accounts, the
contingent exposure, and double-pledge alerts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

An account may name up to ten other subjects answerable for it (`record_parties`: guarantor
or co-borrower) and the vehicle pledged for it (`record_collateral`, by the server key of
its `vin` token). Both belong to the record's member (row-level security like `records`)
and are keyed like records, by subject or vehicle key, so every question stays on one key.

The exposure statement, version 4, adds per subject the `contingent` figures: other
institutions' live accounts where the subject is a party. `registry_collateral_exposure` is the
vehicle check, one call like `registry_exposure`.

`vehicle_watches` holds members' watches on the vehicles of their own live accounts; another
member's account on a watched vehicle raises `collateral.watched_vehicle` (shaped like a
borrower alert: the vehicle's key and its token sealed for the watcher), once per account.

A guarantor or co-borrower may dispute an account it is a party to; upheld, the dispute removes
the party's link (`record_parties.removed_at`, dispute outcome `unlinked`) and leaves the
record as it is.

`alerts` gains `collateral.double_pledge`: raised to each of two members whose live accounts
are backed by the same vehicle, once per pair of accounts, carrying the receiving member's
own `account_ref` and `record_id` (and, unseen by it, the other record's id for the
once-per-pair rule). Such an alert is about no borrower: it has a subject key (the vehicle's)
but no sealed token.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).parents[1] / "sql"
SIGNATURE = "uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer, bigint, bytea"
RESULT_V3 = """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean,
    institutions_reporting bigint, institutions_delinquent bigint, accounts_total bigint,
    accounts_delinquent bigint, worst smallint, latest_delinquent_since date, uncollected bigint,
    in_arrangement bigint, disputed boolean, by_status jsonb, by_product jsonb, amounts jsonb, worst_24m smallint,
    own_accounts bigint, own_delinquent bigint, own_worst smallint,
    last_30d bigint, last_90d bigint, institutions_30d bigint, institutions_90d bigint
"""
RESULT_V4 = (
    RESULT_V3.rstrip()
    + """,
    contingent_accounts bigint, contingent_delinquent bigint, contingent_worst smallint,
    contingent_by_role jsonb, contingent_amounts jsonb
"""
)

# The alerts constraints in full: before this revision (0014's), and with this revision's kinds.
KIND_KNOWN_BEFORE = (
    "kind IN ('new_delinquency','worsened','hard_inquiry','audit_checkpoint','member.threshold_crossed',"
    "'member.threshold_cleared','dispute.overdue')"
)
KIND_KNOWN = (
    "kind IN ('new_delinquency','worsened','hard_inquiry','collateral.watched_vehicle',"
    "'audit_checkpoint','collateral.double_pledge','member.threshold_crossed','member.threshold_cleared',"
    "'dispute.overdue')"
)
SHAPE_BEFORE = (
    "CASE WHEN kind = 'audit_checkpoint' THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND"
    " subject_sealed IS NULL AND source_member_id IS NULL AND details IS NULL WHEN kind IN"
    " ('member.threshold_crossed','member.threshold_cleared','dispute.overdue') THEN checkpoint_id IS"
    " NULL AND subject_key IS NULL AND subject_sealed IS NULL AND details IS NOT NULL ELSE checkpoint_id"
    " IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NOT NULL AND source_member_id IS NOT"
    " NULL AND details IS NULL END"
)
SHAPE = (
    "CASE WHEN kind = 'audit_checkpoint' THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND"
    " subject_sealed IS NULL AND source_member_id IS NULL AND details IS NULL WHEN kind IN"
    " ('member.threshold_crossed','member.threshold_cleared','dispute.overdue') THEN checkpoint_id IS"
    " NULL AND subject_key IS NULL AND subject_sealed IS NULL AND details IS NOT NULL WHEN kind ="
    " 'collateral.double_pledge' THEN checkpoint_id IS NULL AND subject_key IS NOT NULL AND"
    " subject_sealed IS NULL AND source_member_id IS NOT NULL AND account_ref IS NOT NULL AND record_id"
    " IS NOT NULL AND other_record_id IS NOT NULL AND details IS NULL ELSE checkpoint_id IS NULL AND"
    " subject_key IS NOT NULL AND subject_sealed IS NOT NULL AND source_member_id IS NOT NULL AND"
    " details IS NULL END"
)

# A guarantor's or co-borrower's dispute, upheld, removes its link to the account: outcome `unlinked`.
OUTCOME_KNOWN_BEFORE = "outcome IS NULL OR outcome IN ('corrected','suppressed','kept','superseded')"
OUTCOME_KNOWN = "outcome IS NULL OR outcome IN ('corrected','suppressed','kept','superseded','unlinked')"

CURRENT_MEMBER = "(SELECT registry_current_member())"
ASSOCIATION = "(SELECT registry_is_association())"
MEMBER_ROWS = f"{ASSOCIATION} OR member_id = {CURRENT_MEMBER}"
MEMBER_TABLES = ("record_parties", "record_collateral", "vehicle_watches")


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


VEHICLE_SIGNATURE = "uuid, bytea[], text, text, timestamptz, date, boolean, text, text, jsonb, integer, bigint, bytea"
VEHICLE_RESULT = """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean, found boolean,
    live_elsewhere bigint, institutions_elsewhere bigint, delinquent_elsewhere bigint, latest_opened_on date,
    own_accounts bigint
"""


def _vehicle_check() -> None:
    """registry_collateral_exposure: the vehicle check in one call, as registry_exposure is
    for borrowers (the caller's proof of its member first; SECURITY DEFINER, as the owner)."""
    op.execute(
        f"""
        CREATE FUNCTION registry_collateral_exposure({VEHICLE_SIGNATURE}) RETURNS TABLE ({VEHICLE_RESULT})
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
        AS $registry_collateral_exposure$
        #variable_conflict use_column
        BEGIN
            IF NOT coalesce(registry_proof_ok($1, false, $8, $12, $13), false) THEN
                RAISE EXCEPTION 'registry: the context proof is not valid' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY
            {(SQL / "registry_collateral_exposure_v1.sql").read_text().rstrip().rstrip(";")};
        END
        $registry_collateral_exposure$
        """
    )
    op.execute(f"ALTER FUNCTION registry_collateral_exposure({VEHICLE_SIGNATURE}) OWNER TO registry_owner")
    op.execute(f"REVOKE ALL ON FUNCTION registry_collateral_exposure({VEHICLE_SIGNATURE}) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registry_collateral_exposure({VEHICLE_SIGNATURE}) TO registry_app")


def upgrade() -> None:
    op.create_table(
        "record_parties",
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("subject_key", postgresql.BYTEA(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("subject_type", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("removed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("octet_length(subject_key) = 32", name=op.f("ck_record_parties_subject_key_length")),
        sa.CheckConstraint("role IN ('guarantor','co_borrower')", name=op.f("ck_record_parties_role_known")),
        sa.CheckConstraint(
            "subject_type IN ('individual','enterprise')", name=op.f("ck_record_parties_subject_type_known")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_record_parties_member_id_members")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_parties_record_id_records"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("record_id", "subject_key", name=op.f("pk_record_parties")),
    )
    op.create_index("ix_record_parties_subject_key", "record_parties", ["subject_key"], unique=False)
    op.create_table(
        "record_collateral",
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("vehicle_key", postgresql.BYTEA(), nullable=False),
        sa.CheckConstraint("kind IN ('vehicle')", name=op.f("ck_record_collateral_kind_known")),
        sa.CheckConstraint("octet_length(vehicle_key) = 32", name=op.f("ck_record_collateral_vehicle_key_length")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_record_collateral_member_id_members")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_collateral_record_id_records"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_record_collateral")),
    )
    op.create_index("ix_record_collateral_vehicle_key", "record_collateral", ["vehicle_key"], unique=False)
    op.create_table(
        "vehicle_watches",
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("vehicle_key", postgresql.BYTEA(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("vehicle_sealed", postgresql.BYTEA(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("octet_length(vehicle_key) = 32", name=op.f("ck_vehicle_watches_vehicle_key_length")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_vehicle_watches_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "vehicle_key", name=op.f("pk_vehicle_watches")),
    )
    op.create_index("ix_vehicle_watches_vehicle_key", "vehicle_watches", ["vehicle_key"], unique=False)
    op.create_index("ix_vehicle_watches_member_id_id", "vehicle_watches", ["member_id", "id"], unique=False)
    op.execute("GRANT USAGE, SELECT ON SEQUENCE vehicle_watches_id_seq TO registry_app, registry_owner")
    for table in MEMBER_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_rows ON {table} USING ({MEMBER_ROWS}) WITH CHECK ({MEMBER_ROWS})")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO registry_app")
        op.execute(f"GRANT ALL ON {table} TO registry_owner")

    op.add_column("alerts", sa.Column("account_ref", sa.Text(), nullable=True))
    op.add_column("alerts", sa.Column("record_id", sa.UUID(), nullable=True))
    op.add_column("alerts", sa.Column("other_record_id", sa.UUID(), nullable=True))
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", KIND_KNOWN)
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", SHAPE)
    op.create_index(
        "uq_alerts_double_pledge_per_pair",
        "alerts",
        ["member_id", "record_id", "other_record_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'collateral.double_pledge'"),
    )
    op.create_index(
        "uq_alerts_watched_vehicle_per_record",
        "alerts",
        ["member_id", "other_record_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'collateral.watched_vehicle'"),
    )

    op.drop_constraint(op.f("ck_dispute_records_outcome_known"), "dispute_records", type_="check")
    op.create_check_constraint(op.f("ck_dispute_records_outcome_known"), "dispute_records", OUTCOME_KNOWN)

    _exposure(RESULT_V4, "registry_exposure_v4.sql")
    _vehicle_check()


def downgrade() -> None:
    op.execute(f"DROP FUNCTION registry_collateral_exposure({VEHICLE_SIGNATURE})")
    _exposure(RESULT_V3, "registry_exposure_v3.sql")
    op.execute("UPDATE dispute_records SET outcome = 'kept' WHERE outcome = 'unlinked'")
    op.drop_constraint(op.f("ck_dispute_records_outcome_known"), "dispute_records", type_="check")
    op.create_check_constraint(op.f("ck_dispute_records_outcome_known"), "dispute_records", OUTCOME_KNOWN_BEFORE)
    op.drop_index("uq_alerts_watched_vehicle_per_record", table_name="alerts")
    op.drop_index("uq_alerts_double_pledge_per_pair", table_name="alerts")
    op.execute("DELETE FROM alerts WHERE kind IN ('collateral.double_pledge', 'collateral.watched_vehicle')")
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", KIND_KNOWN_BEFORE)
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", SHAPE_BEFORE)
    op.drop_column("alerts", "other_record_id")
    op.drop_column("alerts", "record_id")
    op.drop_column("alerts", "account_ref")
    op.drop_index("ix_vehicle_watches_member_id_id", table_name="vehicle_watches")
    op.drop_index("ix_vehicle_watches_vehicle_key", table_name="vehicle_watches")
    op.drop_table("vehicle_watches")
    op.drop_index("ix_record_collateral_vehicle_key", table_name="record_collateral")
    op.drop_table("record_collateral")
    op.drop_index("ix_record_parties_subject_key", table_name="record_parties")
    op.drop_table("record_parties")
