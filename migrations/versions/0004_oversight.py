"""oversight: disputes, retention, statistics

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Disputes with the records they cover and their history; on records, the earliest open
dispute deadline (past it, exposure answers leave the record out) and suppression for good.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("records", sa.Column("dispute_deadline", sa.TIMESTAMP(timezone=True), nullable=True))
    op.add_column("records", sa.Column("suppressed", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "disputes",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("subject_key", postgresql.BYTEA(), nullable=False),
        sa.Column("filed_by", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("received_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("deadline", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("records_covered", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("octet_length(subject_key) = 32", name=op.f("ck_disputes_subject_key_length")),
        sa.CheckConstraint(
            "reason IN ('not_mine','wrong_status','wrong_amount','already_settled','identity_theft','other')",
            name=op.f("ck_disputes_reason_known"),
        ),
        sa.CheckConstraint("status IN ('open','resolved')", name=op.f("ck_disputes_status_known")),
        sa.CheckConstraint(
            "(status = 'open' AND resolution IS NULL) OR "
            "(status = 'resolved' AND resolution IN ('upheld','rejected','unverifiable'))",
            name=op.f("ck_disputes_resolution_matches_status"),
        ),
        sa.CheckConstraint("char_length(statement) BETWEEN 1 AND 2000", name=op.f("ck_disputes_statement_length")),
        sa.ForeignKeyConstraint(["filed_by"], ["members.id"], name=op.f("fk_disputes_filed_by_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index("ix_disputes_filed_by_received_at", "disputes", ["filed_by", "received_at"], unique=False)
    op.create_index("ix_disputes_received_at_id", "disputes", ["received_at", "id"], unique=False)
    op.create_index("ix_disputes_subject_key", "disputes", ["subject_key"], unique=False)
    op.create_table(
        "dispute_records",
        sa.Column("dispute_id", sa.UUID(), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("correction", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("responded_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "action IS NULL OR action IN ('confirm','correct')", name=op.f("ck_dispute_records_action_known")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('corrected','suppressed','kept','superseded')",
            name=op.f("ck_dispute_records_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_records_dispute_id_disputes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_dispute_records_record_id_records"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dispute_id", "record_id", name=op.f("pk_dispute_records")),
    )
    op.create_index(
        "ix_dispute_records_member_id_dispute_id", "dispute_records", ["member_id", "dispute_id"], unique=False
    )
    op.create_index("ix_dispute_records_record_id", "dispute_records", ["record_id"], unique=False)
    op.create_table(
        "dispute_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("dispute_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.CheckConstraint("kind IN ('filed','response','resolved')", name=op.f("ck_dispute_events_kind_known")),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_events_dispute_id_disputes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_events")),
    )
    op.create_index("ix_dispute_events_dispute_id_id", "dispute_events", ["dispute_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dispute_events_dispute_id_id", table_name="dispute_events")
    op.drop_table("dispute_events")
    op.drop_index("ix_dispute_records_record_id", table_name="dispute_records")
    op.drop_index("ix_dispute_records_member_id_dispute_id", table_name="dispute_records")
    op.drop_table("dispute_records")
    op.drop_index("ix_disputes_subject_key", table_name="disputes")
    op.drop_index("ix_disputes_received_at_id", table_name="disputes")
    op.drop_index("ix_disputes_filed_by_received_at", table_name="disputes")
    op.drop_table("disputes")
    op.drop_column("records", "suppressed")
    op.drop_column("records", "dispute_deadline")
