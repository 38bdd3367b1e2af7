async def test_healthz(http):
    r = await http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_reports_head(http):
    r = await http.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"


async def test_admin_creates_member(registry):
    m = await registry.member()
    assert m.code.startswith("M")
