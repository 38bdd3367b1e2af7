"""audit checkpoints: the audit log sealed by a signed hash chain

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

Each audit row records its writing transaction (`txid`); a sealer chains the rows of
finished transactions in (txid, id) order into checkpoints signed with the service's
Ed25519 key, so a row changed, removed or slipped in after the fact breaks the chain.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get 0: they are older than every transaction running now.
    op.add_column("audit_log", sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False))
    op.alter_column("audit_log", "txid", server_default=sa.text("(pg_current_xact_id()::text)::bigint"))
    op.create_index(op.f("ix_audit_log_txid"), "audit_log", ["txid"], unique=False)
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("last_txid", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("previous_digest", postgresql.BYTEA(), nullable=False),
        sa.Column("digest", postgresql.BYTEA(), nullable=False),
        sa.Column("kid", sa.Text(), nullable=False),
        sa.Column("signature", postgresql.BYTEA(), nullable=False),
        sa.Column("sealed_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    # Checkpoints are as append-only as the log they seal.
    op.execute(
        "CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.execute("ALTER TABLE audit_checkpoints OWNER TO registry_owner")
    op.execute("GRANT SELECT ON audit_checkpoints TO registry_app")


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_index(op.f("ix_audit_log_txid"), table_name="audit_log")
    op.drop_column("audit_log", "txid")
