"""staff console: the association's staff accounts, their sessions, and failed sign-ins

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

The console under /console/ is used by people, not API clients: each has an argon2id
password, a TOTP secret (sealed under K_server) and a role. Sessions live on the server
(`staff_sessions`, keyed by the SHA-256 of the cookie) so signing out ends them everywhere;
failed sign-ins are counted per account and per address for the throttle. None of these
tables holds member rows, so they carry no row-level security; the request login may read
and write them as it does `api_clients`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("staff", "staff_sessions", "staff_login_failures")


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_sealed", pg.BYTEA(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('admin','dispute_officer','analyst','auditor')", name=op.f("ck_staff_role_known")),
        sa.CheckConstraint("status IN ('active','disabled')", name=op.f("ck_staff_status_known")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_staff_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("token_hash", pg.BYTEA(), nullable=False),
        sa.Column("staff_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_sessions_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"])
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    op.create_index("ix_staff_login_failures_email_at", "staff_login_failures", ["email", "at"])
    op.create_index("ix_staff_login_failures_address_at", "staff_login_failures", ["address", "at"])
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO registry_app")
        op.execute(f"GRANT ALL ON {table} TO registry_owner")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app, registry_owner")


def downgrade() -> None:
    op.drop_table("staff_login_failures")
    op.drop_table("staff_sessions")
    op.drop_table("staff")
