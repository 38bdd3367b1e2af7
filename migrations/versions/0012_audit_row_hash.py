"""audit rows carry their own hash from insert; checkpoint heads are published to members

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

Until now a row was first hashed when the sealer chained it, up to 30 s after insert, so a
row changed in between was sealed as changed. Now a BEFORE INSERT trigger sets
`audit_log.row_hash` (SHA-256 over the row's fields, see `audit_row_hash`) on every insert
path: the service's own inserts and the exposure function's. The sealer recomputes each
row's hash from its content before folding it in, and new checkpoints (`format` 2) chain the
stored row hashes; a row whose content no longer matches its hash is named in the
checkpoint's `changed_rows`, which the signature covers. Checkpoints sealed before keep
`format` 1 (a chain over the rows' content) and verify as before.

Existing rows get their hash here, from their content as it is now: for rows already sealed,
their format-1 checkpoint still proves that content; rows not yet sealed are taken as they are.

`alerts` also carries `audit_checkpoint` alerts: the head of the chain published to every
active member's feed, which have no subject (nor a member that caused them) but a
`checkpoint_id`.

Downgrade: format-2 checkpoints do not verify under the code of revision 0011.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The hashed fields in order, as text: each is `<byte length>:<text>`, or `-` when NULL, after
# a version tag. registry/audit/sealing.py `row_hash` computes the same in Python.
FIELDS = [
    "id::text",
    "txid::text",
    "(extract(epoch FROM at) * 1000000)::bigint::text",
    "member_id::text",
    "client_id",
    "action",
    "resource",
    "outcome::text",
    "request_id",
    "details::text",
]
# STABLE, as extract() on a timestamptz is (the epoch does not depend on TimeZone): a plain
# SQL function no more volatile than its body is inlined into the trigger's expression, and
# costs a few microseconds a row where an opaque call cost ten times that.
ROW_HASH = f"""
CREATE FUNCTION audit_row_hash(
    id bigint, txid bigint, at timestamptz, member_id uuid, client_id text, action text, resource text,
    outcome smallint, request_id text, details jsonb
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to('registry-audit-row-v1'
        || {" || ".join(f"coalesce(octet_length({f}) || ':' || {f}, '-')" for f in FIELDS)}, 'UTF8'))
$$
"""
ROW_HASH_ARGS = "id, txid, at, member_id, client_id, action, resource, outcome, request_id, details"

# The trigger overwrites whatever the inserting statement gave: no insert path chooses a hash.
SET_ROW_HASH = f"""
CREATE FUNCTION audit_log_set_row_hash() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_hash := audit_row_hash({", ".join("NEW." + a for a in ROW_HASH_ARGS.split(", "))});
    RETURN NEW;
END
$$
"""

KIND_KNOWN_BEFORE = "kind IN ('new_delinquency','worsened','hard_inquiry')"
KIND_KNOWN = "kind IN ('new_delinquency','worsened','hard_inquiry','audit_checkpoint')"
# An alert is either about a subject (and caused by a member) or a published checkpoint head.
SHAPE = (
    "CASE WHEN kind = 'audit_checkpoint' "
    "THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND subject_sealed IS NULL AND source_member_id IS NULL "
    "ELSE checkpoint_id IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NOT NULL "
    "AND source_member_id IS NOT NULL END"
)


def upgrade() -> None:
    op.execute(ROW_HASH)
    op.add_column("audit_log", sa.Column("row_hash", postgresql.BYTEA(), nullable=True))
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    op.execute(f"UPDATE audit_log SET row_hash = audit_row_hash({ROW_HASH_ARGS})")
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    op.alter_column("audit_log", "row_hash", nullable=False)
    op.execute(SET_ROW_HASH)
    op.execute(
        "CREATE TRIGGER audit_log_row_hash BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_set_row_hash()"
    )

    # 1: a chain over the rows' content (before this revision); 2: over the stored row hashes.
    # A checkpoint that does not say is format 1, so a process still running the old code
    # during a rolling upgrade labels its checkpoints right.
    op.add_column("audit_checkpoints", sa.Column("format", sa.SmallInteger(), server_default="1", nullable=False))
    op.add_column(
        "audit_checkpoints",
        sa.Column("changed_rows", sa.ARRAY(sa.BigInteger()), server_default=sa.text("'{}'"), nullable=False),
    )

    for column in ("subject_key", "subject_sealed", "source_member_id"):
        op.alter_column("alerts", column, nullable=True)
    op.add_column("alerts", sa.Column("checkpoint_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_alerts_checkpoint_id_audit_checkpoints"), "alerts", "audit_checkpoints", ["checkpoint_id"], ["id"]
    )
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", KIND_KNOWN)
    op.create_check_constraint(op.f("ck_alerts_shape"), "alerts", SHAPE)
    # The publisher asks for the last published head.
    op.create_index(
        "ix_alerts_checkpoint_id",
        "alerts",
        ["checkpoint_id"],
        unique=False,
        postgresql_where=sa.text("kind = 'audit_checkpoint'"),
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_checkpoint_id", table_name="alerts")
    op.execute("DELETE FROM alerts WHERE kind = 'audit_checkpoint'")
    op.drop_constraint(op.f("ck_alerts_shape"), "alerts", type_="check")
    op.drop_constraint(op.f("ck_alerts_kind_known"), "alerts", type_="check")
    op.create_check_constraint(op.f("ck_alerts_kind_known"), "alerts", KIND_KNOWN_BEFORE)
    op.drop_constraint(op.f("fk_alerts_checkpoint_id_audit_checkpoints"), "alerts", type_="foreignkey")
    op.drop_column("alerts", "checkpoint_id")
    for column in ("subject_key", "subject_sealed", "source_member_id"):
        op.alter_column("alerts", column, nullable=False)

    op.drop_column("audit_checkpoints", "changed_rows")
    op.drop_column("audit_checkpoints", "format")

    op.execute("DROP TRIGGER audit_log_row_hash ON audit_log")
    op.execute("DROP FUNCTION audit_log_set_row_hash()")
    op.drop_column("audit_log", "row_hash")
    op.execute(
        "DROP FUNCTION audit_row_hash(bigint, bigint, timestamptz, uuid, text, text, text, smallint, text, jsonb)"
    )
