"""The audit log: one row per authenticated request and admin change, failures included;
append-only in the database itself; searchable by admins."""

import asyncpg
import pytest


async def test_admin_change_and_its_audit_row(http, registry):
    code = "AUD" + __import__("secrets").token_hex(3).upper()
    r = await http.post(
        "/admin/members", json={"code": code, "name": "x", "kind": "bank"}, headers=registry.admin.headers
    )
    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert len(rows) == 1
    row = rows[0]
    assert row["action"] == "admin.member.create" and row["outcome"] == 201
    assert row["client_id"] == registry.admin.client_id and row["member_id"] == registry.admin.member_id
    assert row["resource"] == f"member:{r.json()['id']}" and row["details"]["code"] == code


async def test_each_admin_action_is_audited(http, registry):
    member = await registry.member()
    calls = [
        ("GET", "/admin/members", None, "admin.member.list", 200),
        ("GET", f"/admin/members/{member.id}", None, "admin.member.read", 200),
        ("PATCH", f"/admin/members/{member.id}", {"name": "renamed"}, "admin.member.update", 200),
        (
            "POST",
            f"/admin/members/{member.id}/clients",
            {"name": "n", "scopes": ["records:read"]},
            "admin.client.create",
            201,
        ),
        ("GET", f"/admin/members/{member.id}/clients", None, "admin.client.list", 200),
        ("DELETE", f"/admin/clients/{member.client.client_id}", None, "admin.client.revoke", 200),
        ("GET", "/admin/audit", None, "admin.audit.read", 200),
    ]
    for method, path, body, action, status in calls:
        r = await http.request(method, path, json=body, headers=registry.admin.headers)
        assert r.status_code == status, (path, r.text)
        rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
        assert [(x["action"], x["outcome"]) for x in rows] == [(action, status)], path
    secret_row = (await registry.audit_rows(action="admin.client.create"))[-1]
    assert "brs_" not in str(dict(secret_row))


async def test_failed_admin_request_is_audited_once_and_changes_nothing(http, registry):
    code = "DUP" + __import__("secrets").token_hex(3).upper()
    body = {"code": code, "name": "x", "kind": "bank"}
    await http.post("/admin/members", json=body, headers=registry.admin.headers)
    r = await http.post("/admin/members", json=body, headers=registry.admin.headers)
    assert r.status_code == 409
    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in rows] == [("admin.member.create", 409)]
    assert await registry.pool.fetchval("SELECT count(*) FROM members WHERE code = $1", code) == 1


async def test_validation_failure_of_an_authenticated_request_is_audited(http, registry):
    r = await http.post("/admin/members", json={"code": "bad"}, headers=registry.admin.headers)
    assert r.status_code == 422
    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in rows] == [("admin.member.create", 422)]


async def test_forbidden_request_is_audited(http, registry):
    member = await registry.member()
    r = await http.get("/admin/members", headers=member.headers)
    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"], x["member_id"]) for x in rows] == [("admin.member.list", 403, member.id)]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET outcome = 200", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
async def test_database_refuses_to_change_the_audit_log(pool, statement):
    before = await pool.fetchval("SELECT count(*) FROM audit_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == before


async def test_audit_search_filters_and_pages(http, registry):
    member = await registry.member()
    for _ in range(3):
        await http.get("/admin/members", headers=member.headers)  # 403s, audited under the member
    seen, cursor = [], None
    while True:
        params = {"member_id": str(member.id), "action": "admin.member.list", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await http.get("/admin/audit", params=params, headers=registry.admin.headers)
        assert r.status_code == 200, r.text
        seen.extend(r.json()["data"])
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    assert all(e["outcome"] == 403 and e["member_id"] == str(member.id) for e in seen)

    r = await http.get(
        "/admin/audit", params={"member_id": str(member.id), "outcome": 201}, headers=registry.admin.headers
    )
    assert r.json()["data"] == []
    newest = seen[0]["at"]
    r = await http.get(
        "/admin/audit",
        params={"member_id": str(member.id), "action": "admin.member.list", "until": newest},
        headers=registry.admin.headers,
    )
    assert len(r.json()["data"]) == 2


@pytest.mark.parametrize("value", ["0.5", "1700000000", "yesterday", "2026-13-01T00:00:00Z"])
async def test_time_bounds_must_be_rfc3339(http, registry, value):
    r = await http.get("/admin/audit", params={"until": value}, headers=registry.admin.headers)
    assert r.status_code == 422
