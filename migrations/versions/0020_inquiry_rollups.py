"""inquiry rollups: closed days' inquiry counts and the stacking window's hard pairs

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

`inquiry_days` holds each closed UTC day's inquiries by member and purpose; `stacking_pairs`
the (subject, member) pairs of hard inquiries on the rolled-up days of the stacking window and
`stacking_subjects` how many members each such subject has. The service fills them in the
background (registry/stats/rollup.py) and the statistics read them with a live count of what
is not rolled up; `inquiry_rollup_state` says which days they hold. The tables start empty:
the service's first run rolls up the days it finds. Only the service's own login (the
association) maintains them; the request login may read a member's own day counts, and in the
association's context retention changes the day counts and their state.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBER_ROWS = "(SELECT registry_is_association()) OR member_id = (SELECT registry_current_member())"
ASSOCIATION_ONLY = "(SELECT registry_is_association())"
# Retention runs as the request login in the association's context (registry/retention) and
# keeps the day counts consistent with what it purged.
TABLES = (
    ("inquiry_days", MEMBER_ROWS, "SELECT, INSERT, DELETE"),
    ("inquiry_rollup_state", ASSOCIATION_ONLY, "SELECT, INSERT, UPDATE"),
    ("stacking_pairs", ASSOCIATION_ONLY, None),
    ("stacking_subjects", ASSOCIATION_ONLY, None),
)


def upgrade() -> None:
    op.create_table(
        "inquiry_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("member_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("inquiries", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_inquiry_days_member_id_members")),
        sa.PrimaryKeyConstraint("day", "member_id", "purpose", name=op.f("pk_inquiry_days")),
    )
    op.create_index("ix_inquiry_days_member_id_day", "inquiry_days", ["member_id", "day"])
    op.create_table(
        "inquiry_rollup_state",
        sa.Column("id", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("rolled_from", sa.Date(), nullable=False),
        sa.Column("rolled_through", sa.Date(), nullable=False),
        sa.Column("pairs_from", sa.Date(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_inquiry_rollup_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_rollup_state")),
    )
    op.create_table(
        "stacking_pairs",
        sa.Column("subject_key", pg.BYTEA(), nullable=False),
        sa.Column("member_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("subject_key", "member_id", name=op.f("pk_stacking_pairs")),
    )
    op.create_index("ix_stacking_pairs_last_day", "stacking_pairs", ["last_day"])
    op.create_table(
        "stacking_subjects",
        sa.Column("subject_key", pg.BYTEA(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject_key", name=op.f("pk_stacking_subjects")),
    )
    op.create_index(
        "ix_stacking_subjects_stacked", "stacking_subjects", ["subject_key"], postgresql_where=sa.text("members >= 3")
    )
    for table, condition, grant in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_rows ON {table} USING ({condition}) WITH CHECK ({condition})")
        if grant:
            op.execute(f"GRANT {grant} ON {table} TO registry_app")
        op.execute(f"GRANT ALL ON {table} TO registry_owner")


def downgrade() -> None:
    op.drop_table("stacking_subjects")
    op.drop_table("stacking_pairs")
    op.drop_table("inquiry_rollup_state")
    op.drop_table("inquiry_days")
