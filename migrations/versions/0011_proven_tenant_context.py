"""a row-level-security context that SQL cannot forge, and the exposure statement composed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Until now the policies trusted two plain settings (`registry.member_id`, `registry.scope`):
any SQL running as `registry_app` could set them to another member, or to the association,
and read every row. Now:

- `registry_context_key` holds a random key, owned by `registry_owner` and readable by no
  one else. The service reads it once at start-up through its own (owning) login.
- `registry_enter(member, association, client, expires, proof)` (SECURITY DEFINER) accepts
  an HMAC proof over member, scope, client and expiry that only a holder of the key can make,
  then seals the context to the current transaction (backend and transaction start) under
  the same key, in the setting `registry.context`.
- `registry_current_member()` and `registry_is_association()`, which every policy calls,
  now read that setting through `registry_context()`, which checks the seal: a plain
  `set_config` grants nothing, and a sealed value copied into another transaction neither.
- `registry_app` becomes a login of its own (the service's request login) and is not a
  member of `registry_owner`, so it cannot `SET ROLE` to the role that bypasses security.
- `registry_exposure` takes the same proof and checks it before anything else (its member
  argument could otherwise be any member). Its statement is now composed from the rules each
  domain owns (registry/exposure/statement.py); the frozen copy is
  migrations/sql/registry_exposure_v2.sql.

Roles are shared by every database of the server, so the downgrade leaves `registry_app`
able to log in.
"""

import secrets
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).parents[1] / "sql"
V1_SIGNATURE = "uuid, bytea[], text, text, boolean, timestamptz, date, boolean, text, text, jsonb, integer"
V2_SIGNATURE = V1_SIGNATURE + ", bigint, bytea"
RESULT = """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean,
    institutions_reporting bigint, institutions_delinquent bigint, accounts_total bigint,
    accounts_delinquent bigint, worst smallint, latest_delinquent_since date, uncollected bigint,
    disputed boolean, by_status jsonb, by_product jsonb, amounts jsonb, worst_24m smallint,
    own_accounts bigint, own_delinquent bigint, own_worst smallint,
    last_30d bigint, last_90d bigint, institutions_30d bigint, institutions_90d bigint
"""
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"


def _statement(name: str) -> str:
    return (SQL / name).read_text().rstrip().rstrip(";")


def upgrade() -> None:
    op.execute("ALTER ROLE registry_app LOGIN NOBYPASSRLS NOSUPERUSER")
    op.execute(
        "DO $$ BEGIN IF pg_has_role('registry_app', 'registry_owner', 'MEMBER') THEN "
        "REVOKE registry_owner FROM registry_app; END IF; END $$"
    )
    _context_key()
    _context_functions()
    _exposure_v2()


def _context_key() -> None:
    op.create_table(
        "registry_context_key",
        sa.Column("id", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("key", postgresql.BYTEA(), nullable=False),
        sa.Column("inner_pad", postgresql.BYTEA(), nullable=False),
        sa.Column("outer_pad", postgresql.BYTEA(), nullable=False),
        sa.CheckConstraint("id", name=op.f("ck_registry_context_key_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_context_key")),
    )
    key = secrets.token_bytes(32)
    padded = key.ljust(64, b"\0")  # HMAC-SHA256's padded keys (RFC 2104)
    op.get_bind().execute(
        sa.text("INSERT INTO registry_context_key (key, inner_pad, outer_pad) VALUES (:key, :inner, :outer)"),
        {"key": key, "inner": bytes(b ^ 0x36 for b in padded), "outer": bytes(b ^ 0x5C for b in padded)},
    )
    op.execute("ALTER TABLE registry_context_key OWNER TO registry_owner")
    op.execute("REVOKE ALL ON registry_context_key FROM PUBLIC, registry_app")


def _context_functions() -> None:
    functions = {
        # HMAC-SHA256 under the context key. Callable by its owner's functions only: for
        # anyone else it would be an oracle that makes proofs.
        "registry_hmac(text)": f"""
            CREATE FUNCTION registry_hmac(message text) RETURNS bytea LANGUAGE sql STABLE {DEFINER} AS $$
                SELECT sha256(k.outer_pad || sha256(k.inner_pad || convert_to(message, 'UTF8')))
                FROM public.registry_context_key k
            $$""",
        "registry_proof_ok(uuid, boolean, text, bigint, bytea)": f"""
            CREATE FUNCTION registry_proof_ok(member uuid, association boolean, client text, expires bigint,
                                              proof bytea) RETURNS boolean LANGUAGE sql VOLATILE {DEFINER} AS $$
                SELECT member IS NOT NULL AND client IS NOT NULL AND proof IS NOT NULL
                   AND expires >= extract(epoch FROM clock_timestamp())
                   AND proof = registry_hmac('enter|' || member::text || '|'
                       || CASE WHEN association THEN 'association' ELSE 'member' END
                       || '|' || client || '|' || expires::text)
            $$""",
        # The seal binds a context to this backend and this transaction's start.
        "registry_seal(text)": f"""
            CREATE FUNCTION registry_seal(context text) RETURNS text LANGUAGE sql STABLE {DEFINER} AS $$
                SELECT encode(registry_hmac('seal|' || context || '|' || pg_backend_pid()::text || '|'
                                            || extract(epoch FROM transaction_timestamp())::text), 'hex')
            $$""",
        "registry_enter(uuid, boolean, text, bigint, bytea)": f"""
            CREATE FUNCTION registry_enter(member uuid, association boolean, client text, expires bigint,
                                           proof bytea) RETURNS void LANGUAGE plpgsql VOLATILE {DEFINER} AS $$
            DECLARE
                context text := member::text || '|' || CASE WHEN association THEN 'association' ELSE 'member' END;
            BEGIN
                IF NOT coalesce(registry_proof_ok(member, association, client, expires, proof), false) THEN
                    RAISE EXCEPTION 'registry: the context proof is not valid' USING ERRCODE = 'insufficient_privilege';
                END IF;
                PERFORM set_config('registry.context', context || '|' || registry_seal(context), true);
            END $$""",
        "registry_context()": f"""
            CREATE FUNCTION registry_context(OUT member uuid, OUT association boolean)
            LANGUAGE plpgsql STABLE {DEFINER} AS $$
            DECLARE
                parts text[] := string_to_array(coalesce(current_setting('registry.context', true), ''), '|');
            BEGIN
                IF cardinality(parts) = 3 AND parts[3] = registry_seal(parts[1] || '|' || parts[2]) THEN
                    member := parts[1]::uuid;
                    association := parts[2] = 'association';
                END IF;
            END $$""",
    }
    for signature, definition in functions.items():
        op.execute(definition)
        op.execute(f"ALTER FUNCTION {signature} OWNER TO registry_owner")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION registry_enter(uuid, boolean, text, bigint, bytea) TO registry_app")
    op.execute("GRANT EXECUTE ON FUNCTION registry_context() TO registry_app")
    # What every policy calls: the proven context, nothing else.
    op.execute(
        "CREATE OR REPLACE FUNCTION registry_current_member() RETURNS uuid LANGUAGE sql STABLE AS "
        "$$ SELECT member FROM registry_context() $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION registry_is_association() RETURNS boolean LANGUAGE sql STABLE AS "
        "$$ SELECT coalesce((SELECT association FROM registry_context()), false) $$"
    )


def _exposure_v2() -> None:
    op.execute(f"DROP FUNCTION registry_exposure({V1_SIGNATURE})")
    # The result columns are PL/pgSQL variables too; `use_column` makes the statement's own
    # references (ord, worst, ...) mean its columns. $13 and $14 prove the member ($1) and
    # client ($9): the function is the only path to other members' rows, so it checks first.
    op.execute(
        f"""
        CREATE FUNCTION registry_exposure({V2_SIGNATURE}) RETURNS TABLE ({RESULT})
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
        AS $registry_exposure$
        #variable_conflict use_column
        BEGIN
            IF NOT coalesce(registry_proof_ok($1, false, $9, $13, $14), false) THEN
                RAISE EXCEPTION 'registry: the context proof is not valid' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY
            {_statement("registry_exposure_v2.sql")};
        END
        $registry_exposure$
        """
    )
    op.execute(f"ALTER FUNCTION registry_exposure({V2_SIGNATURE}) OWNER TO registry_owner")
    op.execute(f"REVOKE ALL ON FUNCTION registry_exposure({V2_SIGNATURE}) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registry_exposure({V2_SIGNATURE}) TO registry_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION registry_exposure({V2_SIGNATURE})")
    op.execute(
        f"""
        CREATE FUNCTION registry_exposure({V1_SIGNATURE}) RETURNS TABLE ({RESULT})
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
        AS $registry_exposure$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            {_statement("registry_exposure_v1.sql")};
        END
        $registry_exposure$
        """
    )
    op.execute(f"ALTER FUNCTION registry_exposure({V1_SIGNATURE}) OWNER TO registry_owner")
    op.execute(f"REVOKE ALL ON FUNCTION registry_exposure({V1_SIGNATURE}) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION registry_exposure({V1_SIGNATURE}) TO registry_app")
    op.execute(
        "CREATE OR REPLACE FUNCTION registry_current_member() RETURNS uuid LANGUAGE sql STABLE AS "
        "$$ SELECT nullif(current_setting('registry.member_id', true), '')::uuid $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION registry_is_association() RETURNS boolean LANGUAGE sql STABLE AS "
        "$$ SELECT coalesce(current_setting('registry.scope', true), '') = 'association' $$"
    )
    for signature in (
        "registry_context()",
        "registry_enter(uuid, boolean, text, bigint, bytea)",
        "registry_seal(text)",
        "registry_proof_ok(uuid, boolean, text, bigint, bytea)",
        "registry_hmac(text)",
    ):
        op.execute(f"DROP FUNCTION {signature}")
    op.drop_table("registry_context_key")
