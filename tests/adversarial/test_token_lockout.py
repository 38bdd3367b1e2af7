"""Token endpoint lockout (adversarial review): a stranger who knows a client id must not
lock the client out, and members behind one proxy must not lock each other out.

Failures are throttled per (client id, client address) pair, and per address with a cap
a shared proxy does not reach through one member's mistakes. The client address is the
connecting peer unless a proxy listed in `forwarded_allow_ips` says otherwise."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from registry.app import create_app
from registry.config import Settings
from tests.servers import registry_env, serve

pytestmark = pytest.mark.attack

TOKEN = "/oauth/token"
GRANT = {"grant_type": "client_credentials"}


def an_address() -> str:
    """A fresh address per test (counters of one run share the database and the window)."""
    return str(ipaddress.IPv4Address("10.0.0.0") + secrets.randbelow(2**24 - 2) + 1)


@asynccontextmanager
async def caller(app, address: str, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test", headers=headers) as client:
        yield client


async def new_client(http, registry, member) -> tuple[str, str]:
    r = await http.post(
        f"/admin/members/{member.id}/clients",
        json={"name": "extra", "scopes": ["records:read"]},
        headers=registry.admin.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["client_id"], r.json()["client_secret"]


async def test_a_stranger_cannot_lock_a_client_out_from_elsewhere(app, registry):
    victim = (await registry.member()).client
    async with caller(app, an_address()) as attacker:
        statuses = [
            (await attacker.post(TOKEN, data=GRANT, auth=(victim.client_id, f"brs_guess{n}"))).status_code
            for n in range(30)
        ]
        assert statuses == [401] * 10 + [429] * 20
        # The attacker's address stays throttled for this client, right secret or not.
        assert (
            await attacker.post(TOKEN, data=GRANT, auth=(victim.client_id, victim.client_secret))
        ).status_code == 429
    async with caller(app, an_address()) as own_system:
        r = await own_system.post(TOKEN, data=GRANT, auth=(victim.client_id, victim.client_secret))
        assert r.status_code == 200, r.text


async def test_one_members_mistakes_do_not_trip_a_proxy_other_members_share(http, app, registry, monkeypatch):
    """Six clients of one member, all misconfigured, retry through the proxy every member
    uses (no trusted-proxy setting: the proxy's address is everyone's). The shipped
    per-address cap holds; another member behind the proxy gets its token."""
    default_cap = Settings.model_fields["token_failures_per_address"].default
    monkeypatch.setattr(app.state.runtime.settings, "token_failures_per_address", default_cap)
    sloppy, careful = await registry.member(), await registry.member()
    clients = [await new_client(http, registry, sloppy) for _ in range(6)]
    proxy = an_address()
    async with caller(app, proxy) as through_proxy:
        for client_id, _ in clients:
            for n in range(12):
                r = await through_proxy.post(TOKEN, data=GRANT, auth=(client_id, "brs_stale"))
                assert r.status_code == (401 if n < 10 else 429), (n, r.text)
                if n >= 10:
                    assert r.headers["ratelimit-policy"].startswith('"token-failures-client"')
        r = await through_proxy.post(TOKEN, data=GRANT, auth=(careful.client.client_id, careful.client.client_secret))
        assert r.status_code == 200, r.text
        # The sloppy member itself, once fixed, works from there with a client that did not fail.
        r = await through_proxy.post(TOKEN, data=GRANT, auth=(sloppy.client.client_id, sloppy.client.client_secret))
        assert r.status_code == 200, r.text


@pytest.fixture
async def behind_proxy(settings: Settings) -> AsyncIterator[tuple[object, str]]:
    """The app as a deployment behind a trusted proxy runs it: `forwarded_allow_ips` names
    the proxy, and create_app applies it. A low per-address cap keeps the test short."""
    proxy = an_address()
    configured = settings.model_copy(update={"forwarded_allow_ips": proxy, "token_failures_per_address": 5})
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        yield application, proxy


async def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own_address(behind_proxy, registry):
    app, proxy = behind_proxy
    attacker, member = an_address(), (await registry.member()).client
    async with caller(app, proxy, **{"X-Forwarded-For": attacker}) as h:
        for n in range(5):
            assert (await h.post(TOKEN, data=GRANT, auth=(f"brc_nobody{n:012d}", "brs_x"))).status_code == 401
        r = await h.post(TOKEN, data=GRANT, auth=(member.client_id, member.client_secret))
        assert r.status_code == 429 and r.headers["ratelimit-policy"].startswith('"token-failures-address"')
    # The same proxy forwarding another client: not throttled (the proxy's own address was never counted).
    async with caller(app, proxy, **{"X-Forwarded-For": f"{attacker}, {an_address()}"}) as h:
        r = await h.post(TOKEN, data=GRANT, auth=(member.client_id, member.client_secret))
        assert r.status_code == 200, r.text


async def test_an_untrusted_peer_cannot_pick_its_address_with_x_forwarded_for(behind_proxy, app, registry, monkeypatch):
    """Not trusted (in the proxy deployment, and in the default one that trusts nobody), a
    peer's X-Forwarded-For is ignored: a fresh forged address each time does not escape."""
    proxied_app, _ = behind_proxy
    monkeypatch.setattr(app.state.runtime.settings, "token_failures_per_address", 5)
    member = (await registry.member()).client
    for target in (proxied_app, app):
        peer = an_address()
        async with caller(target, peer) as h:
            for n in range(5):
                r = await h.post(
                    TOKEN, data=GRANT, auth=(f"brc_nobody{n:012d}", "brs_x"), headers={"X-Forwarded-For": an_address()}
                )
                assert r.status_code == 401
            r = await h.post(
                TOKEN,
                data=GRANT,
                auth=(member.client_id, member.client_secret),
                headers={"X-Forwarded-For": an_address()},
            )
            assert r.status_code == 429, r.text


@pytest.mark.slow
def test_registry_serve_trusts_the_proxies_it_is_told(database_url, tmp_path):
    """`registry serve --forwarded-allow-ips` reaches the app in the server process: from
    the trusted proxy (here the loopback), X-Forwarded-For names the client."""
    env = registry_env(tmp_path, database_url, env="test", log_format="text", token_failures_per_address="3")
    with serve(env, tmp_path / "server.log", "--no-migrate", "--forwarded-allow-ips", "127.0.0.1") as server:
        attacker = an_address()
        with httpx.Client(base_url=server.url) as h:
            for n in range(3):
                r = h.post(
                    TOKEN, data=GRANT, auth=(f"brc_nobody{n:012d}", "brs_x"), headers={"X-Forwarded-For": attacker}
                )
                assert r.status_code == 401, r.text
            throttled = h.post(TOKEN, data=GRANT, auth=("brc_nobody", "x"), headers={"X-Forwarded-For": attacker})
            assert throttled.status_code == 429 and throttled.json()["error"] == "temporarily_unavailable"
            assert int(throttled.headers["retry-after"]) >= 1
            other = h.post(TOKEN, data=GRANT, auth=("brc_nobody", "x"), headers={"X-Forwarded-For": an_address()})
            assert other.status_code == 401, other.text
