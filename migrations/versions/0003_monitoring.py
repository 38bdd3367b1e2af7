"""monitoring: watches, alerts, webhook outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("subject_key", postgresql.BYTEA(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("subject_sealed", postgresql.BYTEA(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("octet_length(subject_key) = 32", name=op.f("ck_watches_subject_key_length")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_watches_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "subject_key", name=op.f("pk_watches")),
    )
    op.create_index("ix_watches_member_id_id", "watches", ["member_id", "id"], unique=False)
    op.create_index("ix_watches_subject_key", "watches", ["subject_key"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("subject_key", postgresql.BYTEA(), nullable=False),
        sa.Column("subject_sealed", postgresql.BYTEA(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("source_member_id", sa.UUID(), nullable=False),
        sa.Column("source_day", sa.Date(), nullable=True),
        sa.Column(
            "txid", sa.BigInteger(), server_default=sa.text("(pg_current_xact_id())::text::bigint"), nullable=False
        ),
        sa.Column("at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('new_delinquency','worsened','hard_inquiry')", name=op.f("ck_alerts_kind_known")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_alerts_member_id_members")),
        sa.ForeignKeyConstraint(["source_member_id"], ["members.id"], name=op.f("fk_alerts_source_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_member_id_txid_id", "alerts", ["member_id", "txid", "id"], unique=False)
    op.create_index(
        "uq_alerts_hard_inquiry_per_day",
        "alerts",
        ["member_id", "subject_key", "source_member_id", "source_day"],
        unique=True,
        postgresql_where=sa.text("kind = 'hard_inquiry'"),
    )

    op.create_table(
        "webhooks",
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret_sealed", postgresql.BYTEA(), nullable=False),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_webhooks_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_webhooks")),
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_attempt_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("event IN ('alert','ping')", name=op.f("ck_webhook_deliveries_event_known")),
        sa.CheckConstraint(
            "status IN ('pending','delivered','failed','cancelled')", name=op.f("ck_webhook_deliveries_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_webhook_deliveries_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_webhook_deliveries_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index("ix_webhook_deliveries_member_id_id", "webhook_deliveries", ["member_id", "id"], unique=False)
    op.create_index(
        "ix_webhook_deliveries_next_attempt_at",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("alerts")
    op.drop_table("watches")
