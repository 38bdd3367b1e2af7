"""Tenant isolation in the database itself: logged in as the service's request login with
member A's proven context, none of member B's rows can be read, changed or deleted in any
member-owned table; the audit log takes inserts and reads only; and the exposure function
answers with aggregates alone. (tests/adversarial/test_tenant_context.py tries to forge the
context itself.)"""

from __future__ import annotations

import asyncpg
import pytest

from registry.core.tenancy import Association, Member, Tenancy
from tests.factories import item, submit, token

MEMBER_TABLES = [
    "records",
    "record_events",
    "inquiries",
    "idempotency_keys",
    "watches",
    "alerts",
    "webhooks",
    "webhook_deliveries",
    "upload_jobs",
    "dispute_records",
    "record_parties",
    "record_collateral",
    "vehicle_watches",
]
# Tables whose rows belong to a member through another table.
LINKED_TABLES = {
    "upload_errors": "job_id IN (SELECT id FROM upload_jobs WHERE member_id = $1)",
    "disputes": "filed_by = $1",
    "dispute_events": "dispute_id IN (SELECT id FROM disputes WHERE filed_by = $1)",
}


@pytest.fixture(scope="module")
async def b_everywhere(http, registry):
    """Member B with at least one row in every member-owned table."""
    a, b, other = await registry.member(), await registry.member(), await registry.member()
    s = token()
    headers = {**b.headers, "Idempotency-Key": f"rls-{b.code}"}
    linked = {
        "parties": [{"subject": token(), "subject_type": "individual", "role": "guarantor"}],
        "collateral": {"kind": "vehicle", "token": token()},
    }
    assert (await submit(http, b, item(s, "B-1", status="dpd_31_60", **linked), headers=headers)).status_code == 200
    assert (await http.post("/v1/watches", json={"subjects": [s]}, headers=b.headers)).status_code == 200
    vehicle_watch = {"kind": "vehicle", "subjects": [linked["collateral"]["token"]]}
    assert (await http.post("/v1/watches", json=vehicle_watch, headers=b.headers)).status_code == 200
    await submit(http, other, item(s, "O-1", status="dpd_61_90"))  # raises an alert for B
    assert (await http.put("/v1/webhook", json={"url": "https://b.example/hook"}, headers=b.headers)).status_code == 200
    assert (await http.post("/v1/webhook/test", headers=b.headers)).status_code in (200, 202)
    body = (
        b"subject,subject_type,account_ref,product,status,principal_amount,outstanding_amount,as_of\n"
        b"not-a-token,individual,U-1,other,current,1,1,2026-10-31\n"
    )
    up = await http.post("/v1/uploads", content=body, headers={**b.headers, "content-type": "text/csv"})
    assert up.status_code == 202, up.text
    r = await http.post(
        "/v1/exposure", json={"subjects": [s], "purpose": "loan_application", "consent_ref": "c"}, headers=b.headers
    )
    assert r.status_code == 200
    d = await http.post("/v1/disputes", json={"subject": s, "reason": "not_mine", "statement": "x"}, headers=b.headers)
    assert d.status_code == 202, d.text
    for table in MEMBER_TABLES:
        n = await registry.pool.fetchval(f"SELECT count(*) FROM {table} WHERE member_id = $1", b.id)
        assert n > 0, f"fixture left {table} without B's rows"
    for table, where in LINKED_TABLES.items():
        assert await registry.pool.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", b.id) > 0, table
    return a, b


async def enter(prover, conn, member_id, *, association=False):
    tenant = Association(member_id) if association else Member(member_id)
    await prover.enter(conn, tenant, "rls-test")


def _where(table: str) -> str:
    return LINKED_TABLES.get(table, "member_id = $1")


@pytest.mark.parametrize("table", [*MEMBER_TABLES, *LINKED_TABLES])
async def test_member_a_sees_none_of_bs_rows(app_conn, prover, b_everywhere, table):
    a, b = b_everywhere
    async with app_conn.transaction():
        await enter(prover, app_conn, a.id)
        assert await app_conn.fetchval(f"SELECT count(*) FROM {table} WHERE {_where(table)}", b.id) == 0
    async with app_conn.transaction():
        await enter(prover, app_conn, b.id)
        assert await app_conn.fetchval(f"SELECT count(*) FROM {table} WHERE {_where(table)}", b.id) > 0


@pytest.mark.parametrize("table", [*MEMBER_TABLES, *LINKED_TABLES])
async def test_member_a_cannot_change_or_delete_bs_rows(app_conn, prover, b_everywhere, registry, table):
    a, b = b_everywhere
    before = await registry.pool.fetchval(f"SELECT count(*) FROM {table} WHERE {_where(table)}", b.id)
    async with app_conn.transaction():
        await enter(prover, app_conn, a.id)
        first_column = await app_conn.fetchval(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' AND attidentity = '' ORDER BY attnum LIMIT 1",
            table,
        )
        updated = await app_conn.execute(
            f"UPDATE {table} SET {first_column} = {first_column} WHERE {_where(table)}", b.id
        )
        deleted = await app_conn.execute(f"DELETE FROM {table} WHERE {_where(table)}", b.id)
    assert updated == "UPDATE 0" and deleted == "DELETE 0"
    assert await registry.pool.fetchval(f"SELECT count(*) FROM {table} WHERE {_where(table)}", b.id) == before


async def test_a_member_cannot_write_rows_in_anothers_name(app_conn, prover, b_everywhere):
    a, b = b_everywhere
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with app_conn.transaction():
            await enter(prover, app_conn, a.id)
            await app_conn.execute(
                "INSERT INTO inquiries (member_id, subject_key, purpose, hard, at) "
                "VALUES ($1, $2, 'loan_application', true, now())",
                b.id,
                b"\x00" * 32,
            )


async def test_no_member_set_sees_nothing(app_conn, b_everywhere):
    for table in MEMBER_TABLES:
        assert await app_conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_association_scope_is_only_for_the_step_that_takes_it(app_conn, prover, b_everywhere):
    a, b = b_everywhere
    member = Tenancy(prover, Member(a.id), "rls-test")
    async with app_conn.transaction():
        await member.enter(app_conn)
        async with member.across_members(app_conn):
            assert await app_conn.fetchval("SELECT count(*) FROM records WHERE member_id = $1", b.id) > 0
        assert await app_conn.fetchval("SELECT count(*) FROM records WHERE member_id = $1", b.id) == 0
    association = Tenancy(prover, Association(a.id), "rls-test")
    async with app_conn.transaction():
        await association.enter(app_conn)
        async with association.across_members(app_conn):
            pass
        assert await app_conn.fetchval("SELECT count(*) FROM records WHERE member_id = $1", b.id) > 0


async def test_the_service_role_is_bound_and_owns_nothing(registry):
    role = await registry.pool.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'registry_app'")
    assert role == (False, False)
    owned = await registry.pool.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = 'registry_app' AND c.relpersistence <> 't'"  # an upload's own temporary staging aside
    )
    assert owned == 0
    forced = await registry.pool.fetch("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity")
    assert {*MEMBER_TABLES, *LINKED_TABLES} <= {r["relname"] for r in forced}


async def test_the_audit_log_takes_inserts_and_reads_only(app_conn, registry):
    owner = await registry.pool.fetchrow(
        "SELECT r.rolname, r.rolcanlogin FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE c.relname = 'audit_log'"
    )
    assert owner["rolcanlogin"] is False
    await app_conn.execute(
        "INSERT INTO audit_log (action, outcome, request_id, details) VALUES ('auth.failed', 401, 'rls-audit', '{}')"
    )
    assert await app_conn.fetchval("SELECT count(*) FROM audit_log WHERE request_id = 'rls-audit'") == 1
    for statement in ("UPDATE audit_log SET outcome = 200", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute(statement)


async def test_the_exposure_function_is_the_only_cross_member_path(app_conn, prover, registry, b_everywhere):
    a, b = b_everywhere
    function = await registry.pool.fetchrow(
        """
        SELECT p.prosecdef, p.proconfig, r.rolbypassrls, r.rolcanlogin
        FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE p.proname = 'registry_exposure'
        """
    )
    assert function["prosecdef"] and function["rolbypassrls"] and not function["rolcanlogin"]
    assert any(c.startswith("search_path=") for c in function["proconfig"])
    columns = await registry.pool.fetch(
        "SELECT unnest(proargnames) AS name, unnest(proargmodes) AS mode FROM pg_proc "
        "WHERE proname = 'registry_exposure'"
    )
    outputs = {c["name"] for c in columns if c["mode"] == "t"}
    assert not {
        name for name in outputs if "member" in name or name in {"id", "record_id", "account_ref", "subject_key"}
    }
    # Through it, A learns B's record exists only as counts.
    key = await registry.pool.fetchval("SELECT subject_key FROM records WHERE member_id = $1 LIMIT 1", b.id)
    member_id, _, client, expires, proof = prover.prove(Member(a.id), "x")
    rows = await app_conn.fetch(
        "SELECT * FROM registry_exposure($1, $2, 'loan_application', 'c', true, now(), current_date, false, $3, 'rls', "
        "'{}', 1000, $4, $5)",
        member_id,
        [key],
        client,
        expires,
        proof,
    )
    assert rows[0]["institutions_reporting"] >= 1
    assert str(b.id) not in str([dict(r) for r in rows])
