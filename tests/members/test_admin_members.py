"""Member and client administration through /admin, from the admin's side and a member's."""

import uuid

import pytest

from tests.factories import unique_code


async def stored_member(registry, member_id) -> dict:
    row = await registry.pool.fetchrow("SELECT * FROM members WHERE id = $1", uuid.UUID(str(member_id)))
    return dict(row)


async def stored_clients(registry, member_id) -> list[dict]:
    rows = await registry.pool.fetch(
        "SELECT client_id, scopes, status FROM api_clients WHERE member_id = $1 ORDER BY created_at", member_id
    )
    return [dict(row) for row in rows]


async def test_member_lifecycle(http, registry):
    code = unique_code("BANK")
    r = await http.post(
        "/admin/members", json={"code": code, "name": "Bank", "kind": "bank"}, headers=registry.admin.headers
    )
    assert r.status_code == 201, r.text
    member = r.json()
    assert member["status"] == "active" and member["kind"] == "bank" and member["code"] == code
    assert set(member) >= {"id", "code", "name", "kind", "status", "created_at"}

    got = await http.get(f"/admin/members/{member['id']}", headers=registry.admin.headers)
    assert got.status_code == 200 and got.json() == member

    patched = await http.patch(
        f"/admin/members/{member['id']}",
        json={"status": "suspended", "quota_exposure_per_minute": 600},
        headers=registry.admin.headers,
    )
    assert patched.status_code == 200
    assert patched.json()["status"] == "suspended" and patched.json()["quota_exposure_per_minute"] == 600


async def test_duplicate_code_is_409(http, registry):
    code = unique_code()
    body = {"code": code, "name": "A", "kind": "leasing"}
    assert (await http.post("/admin/members", json=body, headers=registry.admin.headers)).status_code == 201
    r = await http.post("/admin/members", json={**body, "name": "B"}, headers=registry.admin.headers)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-should-retry"] == "false"
    names = await registry.pool.fetch("SELECT name FROM members WHERE code = $1", code)
    assert [row["name"] for row in names] == ["A"]


@pytest.mark.parametrize(
    "body",
    [
        {"code": "lower", "name": "x", "kind": "bank"},
        {"code": "A", "name": "x", "kind": "bank"},
        {"code": "OK_CODE", "name": "", "kind": "bank"},
        {"code": "OK_CODE", "name": "x", "kind": "pawnshop"},
        {"code": "OK_CODE", "name": "x", "kind": "bank", "extra": 1},
        {"code": "OK_CODE", "name": "x\u0000", "kind": "bank"},
        {"code": "OK_CODE", "name": "x", "kind": "bank", "quota_writes_per_second": 10**30},
        {"code": "OK_CODE", "name": "x", "kind": "association"},
    ],
)
async def test_invalid_member_bodies(http, registry, body):
    count = "SELECT count(*) FROM members"
    before = await registry.pool.fetchval(count)
    r = await http.post("/admin/members", json=body, headers=registry.admin.headers)
    assert r.status_code in (409, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await registry.pool.fetchval(count) == before
    assert await registry.pool.fetchval("SELECT count(*) FROM members WHERE code = $1", body["code"]) == 0
    [audited] = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert audited["outcome"] == r.status_code and audited["resource"] is None


async def test_cursor_pages_cover_every_member_once(http, registry):
    for _ in range(3):
        await registry.member()
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await http.get("/admin/members", params=params, headers=registry.admin.headers)
        assert r.status_code == 200
        page = r.json()
        assert len(page["data"]) <= 2
        seen.extend(m["id"] for m in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    total = await registry.pool.fetchval("SELECT count(*) FROM members")
    assert len(seen) == total


@pytest.mark.parametrize(
    "params", [{"cursor": "garbage"}, {"cursor": "W10"}, {"limit": 0}, {"limit": 10**6}, {"limit": "x"}]
)
async def test_bad_page_parameters_are_422(http, registry, params):
    r = await http.get("/admin/members", params=params, headers=registry.admin.headers)
    assert r.status_code == 422, r.text


async def test_unknown_member_is_404(http, registry):
    r = await http.get(f"/admin/members/{uuid.uuid4()}", headers=registry.admin.headers)
    assert r.status_code == 404
    r = await http.get("/admin/members/not-a-uuid", headers=registry.admin.headers)
    assert r.status_code == 422


async def test_clients_create_list_revoke(http, registry):
    member = await registry.member()
    r = await http.post(
        f"/admin/members/{member.id}/clients",
        json={"name": "batch", "scopes": ["records:write"]},
        headers=registry.admin.headers,
    )
    assert r.status_code == 201
    created = r.json()
    assert created["client_secret"].startswith("brs_") and created["client_id"].startswith("brc_")
    listed = (await http.get(f"/admin/members/{member.id}/clients", headers=registry.admin.headers)).json()
    assert created["client_id"] in {c["client_id"] for c in listed}
    assert all("client_secret" not in c and "secret_hash" not in c for c in listed)
    stored = await registry.pool.fetchval(
        "SELECT secret_hash FROM api_clients WHERE client_id = $1", created["client_id"]
    )
    assert created["client_secret"].encode() not in stored
    revoked = await http.delete(f"/admin/clients/{created['client_id']}", headers=registry.admin.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await http.delete("/admin/clients/brc_doesnotexist", headers=registry.admin.headers)).status_code == 404


async def test_admin_scope_is_reserved_to_the_association(http, registry):
    member = await registry.member()
    before = await stored_clients(registry, member.id)
    r = await http.post(
        f"/admin/members/{member.id}/clients", json={"name": "x", "scopes": ["admin"]}, headers=registry.admin.headers
    )
    assert r.status_code == 422
    assert await stored_clients(registry, member.id) == before and len(before) == 1


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/admin/members"),
        ("POST", "/admin/members"),
        ("GET", "/admin/audit"),
        ("DELETE", "/admin/clients/brc_x"),
    ],
)
async def test_member_token_on_admin_is_403(http, registry, method, path):
    member = await registry.member()
    code = unique_code("ZZ")
    r = await http.request(method, path, headers=member.headers, json={"code": code, "name": "x", "kind": "bank"})
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert await registry.pool.fetchval("SELECT count(*) FROM members WHERE code = $1", code) == 0
    [audited] = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert (audited["member_id"], audited["outcome"]) == (member.id, 403)


async def test_a_member_cannot_change_itself_through_admin_paths(http, registry):
    member = await registry.member()
    before = await stored_member(registry, member.id)
    r = await http.patch(
        f"/admin/members/{member.id}", json={"status": "suspended", "name": "Mine now"}, headers=member.headers
    )
    assert r.status_code == 403
    assert await stored_member(registry, member.id) == before


async def test_association_cannot_be_suspended(http, registry):
    before = await stored_member(registry, registry.admin.member_id)
    r = await http.patch(
        f"/admin/members/{registry.admin.member_id}", json={"status": "suspended"}, headers=registry.admin.headers
    )
    assert r.status_code == 409
    after = await stored_member(registry, registry.admin.member_id)
    assert after == before and after["status"] == "active"
    # Its admin still works: nothing about the association changed.
    assert (await http.get("/admin/members", params={"limit": 1}, headers=registry.admin.headers)).status_code == 200


async def test_member_creation_is_retry_safe(http, registry):
    code = unique_code("IDEM")
    body = {"code": code, "name": "Retry Bank", "kind": "bank"}
    headers = {**registry.admin.headers, "Idempotency-Key": f"create-{code}"}
    first = await http.post("/admin/members", json=body, headers=headers)
    again = await http.post("/admin/members", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = await http.post("/admin/members", json={**body, "name": "Other"}, headers=headers)
    assert other.status_code == 422
    assert await registry.pool.fetchval("SELECT count(*) FROM members WHERE code = $1", code) == 1


async def test_client_creation_retry_names_the_client_instead_of_a_second_secret(http, registry):
    member = await registry.member()
    headers = {**registry.admin.headers, "Idempotency-Key": f"client-{member.code}"}
    body = {"name": "once", "scopes": ["records:read"]}
    first = await http.post(f"/admin/members/{member.id}/clients", json=body, headers=headers)
    assert first.status_code == 201
    again = await http.post(f"/admin/members/{member.id}/clients", json=body, headers=headers)
    assert again.status_code == 409 and first.json()["client_id"] in again.json()["detail"]
    assert first.json()["client_secret"] not in again.text
    stored = await registry.pool.fetchval(
        "SELECT response::text FROM idempotency_keys WHERE key = $1", f"client-{member.code}"
    )
    assert first.json()["client_secret"] not in stored
    clients = (await http.get(f"/admin/members/{member.id}/clients", headers=registry.admin.headers)).json()
    assert len(clients) == 2  # the factory's client and this one, not a third


@pytest.mark.parametrize("body", [{"name": None}, {"status": None}, {"status": "active", "name": None}])
async def test_identity_fields_cannot_be_nulled(http, registry, body):
    member = await registry.member()
    before = await stored_member(registry, member.id)
    r = await http.patch(f"/admin/members/{member.id}", json=body, headers=registry.admin.headers)
    assert r.status_code == 422
    assert await stored_member(registry, member.id) == before


async def test_quota_null_restores_the_default(http, registry):
    member = await registry.member()
    await http.patch(f"/admin/members/{member.id}", json={"quota_writes_per_second": 5}, headers=registry.admin.headers)
    r = await http.patch(
        f"/admin/members/{member.id}", json={"quota_writes_per_second": None}, headers=registry.admin.headers
    )
    assert r.status_code == 200 and r.json()["quota_writes_per_second"] is None


async def test_huge_numbers_in_a_keyed_request_are_a_clear_422(http, registry):
    member = await registry.member()
    before = await stored_clients(registry, member.id)
    key = f"huge-{member.code}"
    r = await http.post(
        f"/admin/members/{member.id}/clients",
        json={"name": "x", "scopes": ["monitor"], "public_jwk": {"kty": "OKP", "n": 41952581475295469568}},
        headers={**registry.admin.headers, "Idempotency-Key": key},
    )
    assert r.status_code == 422
    assert await stored_clients(registry, member.id) == before
    assert await registry.pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 0


async def test_patch_without_a_body_is_422(http, registry):
    member = await registry.member()
    before = await stored_member(registry, member.id)
    r = await http.patch(
        f"/admin/members/{member.id}", headers={**registry.admin.headers, "content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    assert await stored_member(registry, member.id) == before
