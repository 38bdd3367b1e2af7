"""Row-level security that SQL running as the request login cannot forge (adversarial
review, issue 12): an injected statement anywhere must not become a full breach.

Before, any SQL as `registry_app` could `set_config('registry.member_id', <another member>)`
or set `registry.scope = association` and read every member's rows, and the login that
served requests could `SET ROLE` to the role that bypasses security."""

from __future__ import annotations

import hmac

import asyncpg
import pytest

from registry.config import Environment, Settings
from registry.core.db import request_role_problems
from registry.core.tenancy import Association, ContextProver, Member, proof_message
from tests.factories import item, submit, token

pytestmark = pytest.mark.attack

MEMBER_TABLES = ["records", "record_events", "inquiries", "watches", "alerts", "upload_jobs", "idempotency_keys"]


@pytest.fixture(scope="module")
async def victim(http, registry):
    """Member B, with rows in the member tables; A is the attacker's member."""
    a, b = await registry.member(), await registry.member()
    s = token()
    headers = {**b.headers, "Idempotency-Key": f"victim-{b.code}"}
    assert (await submit(http, b, item(s, "V-1", status="dpd_31_60"), headers=headers)).status_code == 200
    assert (await http.post("/v1/watches", json={"subjects": [s]}, headers=b.headers)).status_code == 200
    await submit(http, a, item(s, "ATT-1", status="dpd_61_90"))  # an alert for B
    r = await http.post(
        "/v1/exposure", json={"subjects": [s], "purpose": "loan_application", "consent_ref": "c"}, headers=b.headers
    )
    assert r.status_code == 200
    return a, b, s


async def _visible_rows_of(conn: asyncpg.Connection, member_id) -> dict[str, int]:
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t} WHERE member_id = $1", member_id) for t in MEMBER_TABLES}


async def test_plain_settings_grant_nothing(app_conn, registry, victim):
    _, b, _ = victim
    assert sum((await _visible_rows_of(registry.pool, b.id)).values()) > 0  # the rows exist
    async with app_conn.transaction():
        await app_conn.execute("SELECT set_config('registry.member_id', $1, true)", str(b.id))
        await app_conn.execute("SELECT set_config('registry.scope', 'association', true)")
        assert await _visible_rows_of(app_conn, b.id) == dict.fromkeys(MEMBER_TABLES, 0)


async def test_a_forged_or_copied_context_grants_nothing(app_conn, prover, victim):
    a, b, _ = victim
    async with app_conn.transaction():
        await app_conn.execute("SELECT set_config('registry.context', $1, true)", f"{b.id}|association|{'0' * 64}")
        assert await _visible_rows_of(app_conn, b.id) == dict.fromkeys(MEMBER_TABLES, 0)
    # A context sealed for one transaction, replayed in the next, is worth nothing.
    async with app_conn.transaction():
        await prover.enter(app_conn, Association(a.id), "attacker")
        sealed = await app_conn.fetchval("SELECT current_setting('registry.context')")
        assert sum((await _visible_rows_of(app_conn, b.id)).values()) > 0
    async with app_conn.transaction():
        await app_conn.execute("SELECT set_config('registry.context', $1, true)", sealed)
        assert await _visible_rows_of(app_conn, b.id) == dict.fromkeys(MEMBER_TABLES, 0)


async def test_entering_needs_a_proof_only_the_service_can_make(app_conn, prover, victim):
    a, b, _ = victim
    member_id, association, client, expires, proof = prover.prove(Member(a.id), "attacker")
    forgeries = [
        (b.id, association, client, expires, proof),  # A's proof for B
        (member_id, True, client, expires, proof),  # a member's proof for the association
        (member_id, association, client, expires + 1, proof),  # a longer life
        (member_id, association, "other-client", expires, proof),
        (member_id, association, client, expires, bytes(32)),
        (member_id, association, client, 1, ContextProver(bytes(32)).prove(Member(a.id), client)[4]),  # wrong key
    ]
    for args in forgeries:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with app_conn.transaction():
                await app_conn.execute("SELECT registry_enter($1, $2, $3, $4, $5)", *args)
    # A genuine proof past its expiry (one that leaked would not stay useful).
    expired = 1_000_000_000
    old = hmac.digest(prover.key, proof_message(a.id, False, client, expired), "sha256")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with app_conn.transaction():
            await app_conn.execute("SELECT registry_enter($1, false, $2, $3, $4)", a.id, client, expired, old)


async def test_the_key_and_the_hmac_are_out_of_reach(app_conn):
    for statement in (
        "SELECT key FROM registry_context_key",
        "SELECT registry_hmac('enter|x')",
        "SELECT registry_seal('x|member')",
        "SELECT registry_proof_ok(NULL, false, 'c', 0, NULL)",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.fetchval(statement)


async def test_the_request_login_cannot_become_the_owning_role(app_conn):
    assert await app_conn.fetchval("SELECT session_user") == "registry_app"
    for role in ("registry_owner", "postgres"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute(f"SET ROLE {role}")
    await app_conn.execute("RESET ROLE")
    assert await app_conn.fetchval("SELECT current_user") == "registry_app"
    assert await request_role_problems(app_conn) == []


async def test_the_exposure_function_takes_no_unproven_member(app_conn, prover, victim):
    a, b, _ = victim
    _, _, client, expires, proof = prover.prove(Member(a.id), "attacker")
    statement = (
        "SELECT * FROM registry_exposure($1, $2, 'loan_application', 'c', true, now(), current_date, false, "
        "$3, 'forged', '{}', 1000, $4, $5)"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # A's proof, B's member: B's own accounts would leak
        await app_conn.fetch(statement, b.id, [bytes(32)], client, expires, proof)


async def test_the_services_own_pool_sees_no_rows_before_a_tenant_is_set(app, victim):
    """Pinned on the service's real pool: if its login could bypass row-level security (a
    superuser, a BYPASSRLS role, the owner), this count would not be zero."""
    _, b, _ = victim
    pool = app.state.runtime.db.pool
    assert await request_role_problems(pool) == []
    async with pool.acquire() as conn:
        assert await _visible_rows_of(conn, b.id) == dict.fromkeys(MEMBER_TABLES, 0)
        assert await conn.fetchval("SELECT count(*) FROM records") == 0


async def test_the_startup_check_flags_a_privileged_login(registry):
    problems = await request_role_problems(registry.pool)  # the tests' own login: the server's superuser
    assert "is a superuser" in problems


async def test_production_refuses_a_request_login_that_bypasses_security(database_url, tmp_path, settings):
    from registry.app import create_app

    privileged = Settings(
        env=Environment.production,
        database_url=database_url,
        database_request_url=database_url,
        data_dir=tmp_path,
        server_key="3f9a1c2e7b6d5a40" * 4,
        jwt_keys_dir=settings.data_dir / "keys" / "jwt",
        _env_file=None,  # type: ignore[call-arg]
    )
    application = create_app(privileged)
    with pytest.raises(RuntimeError, match="refusing to start"):
        async with application.router.lifespan_context(application):
            pass
