"""uploads: bulk upload jobs and their rejected lines

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("gzip", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("received_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_lines", sa.BigInteger(), nullable=True),
        sa.Column("processed_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("unchanged_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("stale_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected_lines", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("format IN ('csv','ndjson')", name=op.f("ck_upload_jobs_format_known")),
        sa.CheckConstraint(
            "status IN ('receiving','processing','completed','failed')", name=op.f("ck_upload_jobs_status_known")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_upload_jobs_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_jobs")),
    )
    op.create_index(
        "ix_upload_jobs_member_id_created_at_id", "upload_jobs", ["member_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_upload_jobs_status_unfinished",
        "upload_jobs",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status IN ('receiving','processing')"),
    )
    op.create_table(
        "upload_errors",
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("account_ref", sa.Text(), nullable=True),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["upload_jobs.id"], name=op.f("fk_upload_errors_job_id_upload_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "line", name=op.f("pk_upload_errors")),
    )


def downgrade() -> None:
    op.drop_table("upload_errors")
    op.drop_index(
        "ix_upload_jobs_status_unfinished",
        table_name="upload_jobs",
        postgresql_where=sa.text("status IN ('receiving','processing')"),
    )
    op.drop_index("ix_upload_jobs_member_id_created_at_id", table_name="upload_jobs")
    op.drop_table("upload_jobs")
