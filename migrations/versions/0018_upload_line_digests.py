"""records remember the upload line that wrote them: a re-uploaded line is known unchanged unread

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

A monthly file is mostly lines the registry already holds. Each record keeps the keyed
digest of the upload line that last wrote its content (`line_digest`, 16 bytes; NULL when
the content came through the API or a dispute's correction). An upload looks its lines'
digests up by account before validating them (registry/uploads/line_digests.py), and a line whose
digest its record holds is counted unchanged without being parsed into a record again.

The digest is only as good as its tie to the content, so a trigger clears it whenever a
write changes `content_hash` without writing a new digest: whatever path a later change
takes, an old line can never again pass for the record's content.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("records", sa.Column("line_digest", pg.BYTEA(), nullable=True))
    op.execute(
        """
        CREATE FUNCTION records_line_digest_follows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.line_digest := NULL;
            RETURN NEW;
        END $$
        """
    )
    # The WHEN clause is evaluated without calling the function: an update that keeps the
    # content, or writes a new digest with it, costs nothing more.
    op.execute(
        """
        CREATE TRIGGER records_line_digest_follows BEFORE UPDATE ON records FOR EACH ROW
        WHEN (NEW.content_hash IS DISTINCT FROM OLD.content_hash
              AND NEW.line_digest IS NOT DISTINCT FROM OLD.line_digest
              AND NEW.line_digest IS NOT NULL)
        EXECUTE FUNCTION records_line_digest_follows()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER records_line_digest_follows ON records")
    op.execute("DROP FUNCTION records_line_digest_follows()")
    op.drop_column("records", "line_digest")
