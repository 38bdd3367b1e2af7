async def test_healthz(http):
    r = await http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_reports_head(http):
    r = await http.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"


async def test_admin_creates_member(http, registry):
    m = await registry.member(kind="leasing", name="Smoke Leasing")
    shown = await http.get(f"/admin/members/{m.id}", headers=registry.admin.headers)
    assert shown.status_code == 200
    assert {k: shown.json()[k] for k in ("id", "code", "name", "kind", "status")} == {
        "id": str(m.id),
        "code": m.code,
        "name": "Smoke Leasing",
        "kind": "leasing",
        "status": "active",
    }
    stored = await registry.pool.fetchrow("SELECT code, name, kind, status FROM members WHERE id = $1", m.id)
    assert tuple(stored) == (m.code, "Smoke Leasing", "leasing", "active")
    # The member's client works: its token reaches a member route.
    assert (await http.get("/v1/records", headers=m.headers)).status_code == 200
