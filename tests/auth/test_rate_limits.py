"""Quotas and throttles: over the limit is a 429 problem with Retry-After and the
RateLimit headers; limits are counted in the database, so every worker shares them."""

from datetime import UTC, datetime

import httpx

from tests.factories import item, submit, token

FROZEN = datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)


def assert_limited(r, policy):
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["ratelimit-policy"].startswith(f'"{policy}";q=')
    assert r.headers["ratelimit"].startswith(f'"{policy}";r=0;t=')


def assert_token_throttled(r, policy):
    """The token endpoint's 429 is an RFC 6749 error (application/json, `error`) with the
    problem fields beside it, and the same throttle headers as every other 429."""
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["retry-after"]) >= 1 and r.headers["cache-control"] == "no-store"
    assert r.headers["ratelimit-policy"].startswith(f'"{policy}";q=')
    assert r.headers["ratelimit"].startswith(f'"{policy}";r=0;t=')
    body = r.json()
    assert body["error"] == "temporarily_unavailable" and body["error_description"]
    assert body["status"] == 429 and body["type"].endswith("oauth-temporarily-unavailable")
    assert body["request_id"] == r.headers["x-request-id"]


def from_address(app, address):
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 4711)), base_url="http://registry.test"
    )


async def test_repeated_token_failures_lock_the_client_out_from_that_address_for_the_window(app, registry, clock):
    clock.set(FROZEN)
    c = (await registry.member()).client
    async with from_address(app, "192.0.2.41") as h:
        for _ in range(10):
            r = await h.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, "brs_guess"))
            assert r.status_code == 401
        # From that address even the right secret waits for the window to pass.
        r = await h.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
        assert_token_throttled(r, "token-failures-client")
        # The refusal is not a failure: it neither counts nor writes an audit row.
        assert await registry.audit_rows(request_id=r.headers["x-request-id"]) == []
    # From an address that has not failed, the client works.
    async with from_address(app, "192.0.2.42") as h:
        r = await h.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
        assert r.status_code == 200, r.text
    clock.set(datetime(2026, 11, 28, 10, 5, 1, tzinfo=UTC))
    async with from_address(app, "192.0.2.41") as h:
        r = await h.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
        assert r.status_code == 200


async def test_failures_from_one_address_are_throttled(app, registry, clock, monkeypatch):
    clock.set(FROZEN)
    c = (await registry.member()).client
    monkeypatch.setattr(app.state.runtime.settings, "token_failures_per_address", 5)
    async with from_address(app, "192.0.2.77") as h:
        for n in range(5):
            r = await h.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(f"brc_nobody{n:07d}", "x")
            )
            assert r.status_code == 401, (n, r.text)
        r = await h.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
        assert_token_throttled(r, "token-failures-address")
    # Another address is not affected.
    async with from_address(app, "192.0.2.78") as h:
        r = await h.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
        assert r.status_code == 200


def test_the_per_address_cap_leaves_room_for_a_shared_proxy():
    """A proxy many members share must survive one member's mistakes: each of its clients
    counts at most `token_failures_per_client` failures per window."""
    from registry.config import Settings

    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert defaults["token_failures_per_address"] >= 50 * defaults["token_failures_per_client"]


async def test_write_quota_per_member_second(http, registry, clock):
    clock.set(FROZEN)
    bank, other = await registry.member(), await registry.member()
    r = await http.patch(
        f"/admin/members/{bank.id}", json={"quota_writes_per_second": 2}, headers=registry.admin.headers
    )
    assert r.status_code == 200
    # One after another: concurrent requests may pass a limit by as many as are in flight
    # (counters are sharded per connection and summed), which docs/security.md explains.
    answers = [await submit(http, bank, item(token())) for _ in range(5)]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429, 429, 429]
    assert_limited(next(a for a in answers if a.status_code == 429), "writes")
    # Reads are not writes, other members have their own quota, and the next second is new.
    assert (await http.get("/v1/records", headers=bank.headers)).status_code == 200
    assert (await submit(http, other, item(token()))).status_code == 200
    clock.set(datetime(2026, 11, 28, 10, 0, 6, tzinfo=UTC))
    assert (await submit(http, bank, item(token()))).status_code == 200


async def test_refused_writes_write_nothing_and_are_audited(http, registry, clock):
    clock.set(FROZEN)
    bank = await registry.member()
    await http.patch(f"/admin/members/{bank.id}", json={"quota_writes_per_second": 1}, headers=registry.admin.headers)
    assert (await submit(http, bank, item(token(), "Q-1"))).status_code == 200
    refused = await submit(http, bank, item(token(), "Q-2"))
    assert refused.status_code == 429
    assert await registry.pool.fetchval("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 1
    rows = await registry.audit_rows(request_id=refused.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in rows] == [("records.submit", 429)]


async def test_exposure_quota_counts_subjects_per_minute(http, registry, clock):
    clock.set(FROZEN)
    bank = await registry.member()
    await http.patch(f"/admin/members/{bank.id}", json={"quota_exposure_per_minute": 3}, headers=registry.admin.headers)
    body = {"subjects": [token(), token()], "purpose": "loan_application", "consent_ref": "Q"}
    ok = await http.post("/v1/exposure", json=body, headers=bank.headers)
    assert ok.status_code == 200 and ok.headers["ratelimit"].startswith('"exposure";r=1;')
    over = await http.post("/v1/exposure", json={**body, "subjects": [token(), token()]}, headers=bank.headers)
    assert_limited(over, "exposure")
    assert await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", bank.id) == 2
    rows = await registry.audit_rows(request_id=over.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in rows] == [("exposure.query", 429)]
    clock.set(datetime(2026, 11, 28, 10, 1, 0, tzinfo=UTC))
    assert (await http.post("/v1/exposure", json=body, headers=bank.headers)).status_code == 200
