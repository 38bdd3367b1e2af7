"""dispute alerts: lenders hear of disputes in their feed; overdue disputes are noticed once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

A lender whose record a dispute covers gets `dispute.opened` when it is filed,
`dispute.deadline_near` five days before the deadline while it has not answered, and
`dispute.resolved` with the outcome for each of its records. Such an alert is about a dispute,
not a watched subject: it carries `dispute_id` and `details` (the lender's own records, the
deadline, the outcome) and no subject, no causing member and no checkpoint. One alert of each
kind per lender and dispute (a unique index), so the periodic reminder can run in every process
as often as it likes. `disputes.overdue_notified_at` records when the association was told that a
dispute went past its deadline unresolved, so it is told once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The alerts CHECK constraints in full, before (0015's) and after (with the dispute kinds).
KIND_KNOWN_BEFORE = (
    "kind IN ('new_delinquency','worsened','hard_inquiry','collateral.watched_vehicle',"
    "'audit_checkpoint','collateral.double_pledge','member.threshold_crossed','member.threshold_cleared',"
    "'dispute.overdue')"
)
KIND_KNOWN = (
    "kind IN ('new_delinquency','worsened','hard_inquiry','collateral.watched_vehicle',"
    "'audit_checkpoint','collateral.double_pledge','member.threshold_crossed','member.threshold_cleared',"
    "'dispute.overdue','dispute.opened','dispute.deadline_near','dispute.resolved')"
)
SHAPE_BEFORE = (
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
# A dispute alert names its dispute and nothing that would tell who filed it or who else holds records.
SHAPE = (
    "CASE WHEN kind = 'audit_checkpoint' THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND"
    " subject_sealed IS NULL AND source_member_id IS NULL AND details IS NULL WHEN kind IN"
    " ('member.threshold_crossed','member.threshold_cleared','dispute.overdue') THEN checkpoint_id IS"
    " NULL AND subject_key IS NULL AND subject_sealed IS NULL AND details IS NOT NULL WHEN kind ="
    " 'collateral.double_pledge' THEN checkpoint_id IS NULL AND subject_key IS NOT NULL AND"
    " subject_sealed IS NULL AND source_member_id IS NOT NULL AND account_ref IS NOT NULL AND record_id"
    " IS NOT NULL AND other_record_id IS NOT NULL AND details IS NULL WHEN kind IN ('dispute.opened',"
    "'dispute.deadline_near','dispute.resolved') THEN dispute_id IS NOT NULL AND details IS NOT NULL AND"
    " checkpoint_id IS NULL AND subject_key IS NULL AND subject_sealed IS NULL AND source_member_id IS"
    " NULL ELSE checkpoint_id IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NOT NULL AND"
    " source_member_id IS NOT NULL AND details IS NULL END"
)


def upgrade() -> None:
    op.add_column("alerts", sa.Column("dispute_id", postgresql.UUID(as_uuid=True), nullable=True))
    # `details` came with the association alerts (0014).
    op.create_foreign_key(
        op.f("fk_alerts_dispute_id_disputes"), "alerts", "disputes", ["dispute_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index(
        "uq_alerts_dispute_once",
        "alerts",
        ["member_id", "dispute_id", "kind"],
        unique=True,
        postgresql_where=sa.text("dispute_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", KIND_KNOWN)
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", SHAPE)

    op.add_column("disputes", sa.Column("overdue_notified_at", sa.TIMESTAMP(timezone=True), nullable=True))
    # The reminder's scan: open disputes by deadline.
    op.create_index("ix_disputes_open_deadline", "disputes", ["deadline"], postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index("ix_disputes_open_deadline", table_name="disputes")
    op.drop_column("disputes", "overdue_notified_at")
    op.execute("DELETE FROM alerts WHERE dispute_id IS NOT NULL")
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", SHAPE_BEFORE)
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", KIND_KNOWN_BEFORE)
    op.drop_index("uq_alerts_dispute_once", table_name="alerts")
    op.drop_constraint(op.f("fk_alerts_dispute_id_disputes"), "alerts", type_="foreignkey")
    op.drop_column("alerts", "dispute_id")
