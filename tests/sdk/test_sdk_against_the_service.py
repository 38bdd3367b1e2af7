"""What the SDK's own tests check against a mocked registry, checked once against the real
service: its retries on a real 429 (the write quota) and a real 409 (an Idempotency-Key in
flight), each honouring Retry-After; a new token after a real 401; and the exceptions made
from real problem bodies. The async client reaches the app through ASGI, with the service
clock moved by the client's own back-off sleeps; the blocking client's mapping is checked
against a real server process in tests/sdk/test_sdk_integration.py."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from registry_client import (
    AsyncRegistryClient,
    AuthenticationError,
    Conflict,
    NotFound,
    PermissionDenied,
    UnprocessableEntity,
)
from registry_client import _base_client as sdk_base
from tests.factories import item, token

FROZEN = datetime(2026, 11, 28, 10, 0, 5, 250_000, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    request: httpx.Request
    status: int
    headers: httpx.Headers

    @property
    def path(self) -> str:
        return self.request.url.path


class Wire:
    """Every answer the SDK got, in order, with the request it answered."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []

    async def __call__(self, response: httpx.Response) -> None:
        self.answers.append(Answer(response.request, response.status_code, response.headers))

    def on(self, path: str) -> list[Answer]:
        return [a for a in self.answers if a.path == path]

    def statuses(self, path: str) -> list[int]:
        return [a.status for a in self.on(path)]


@pytest.fixture
async def wire(app) -> AsyncIterator[tuple[httpx.AsyncClient, Wire]]:
    seen = Wire()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://registry.test", event_hooks={"response": [seen]}
    ) as h:
        yield h, seen


def sdk(h: httpx.AsyncClient, client) -> AsyncRegistryClient:
    return AsyncRegistryClient("http://registry.test", client.client_id, client.client_secret, http_client=h)


async def test_a_real_429_is_retried_after_its_retry_after(http, registry, clock, wire):
    """The member's write quota is one request a second; the second batch is refused with
    Retry-After, and the SDK sleeps that long (the service clock moves with it) and retries
    with the same Idempotency-Key: both batches are stored once."""
    moment = [FROZEN]
    clock.set(FROZEN)
    bank = await registry.member()
    r = await http.patch(
        f"/admin/members/{bank.id}", json={"quota_writes_per_second": 1}, headers=registry.admin.headers
    )
    assert r.status_code == 200
    h, seen = wire
    client = sdk(h, bank.client)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        moment[0] += timedelta(seconds=seconds)
        clock.set(moment[0])

    client._sleep = sleep  # type: ignore[method-assign]
    first = await client.records.submit([item(token(), "Q-1")])
    second = await client.records.submit([item(token(), "Q-2")])
    assert first.summary.created == second.summary.created == 1

    assert seen.statuses("/v1/records") == [200, 429, 200]
    refused = seen.on("/v1/records")[1].headers
    assert refused["content-type"] == "application/problem+json"
    assert slept == [float(refused["retry-after"])] and slept[0] >= 1
    keys = [a.request.headers["idempotency-key"] for a in seen.on("/v1/records")]
    assert keys[1] == keys[2] != keys[0], "the retry reuses its call's key"
    count = registry.pool.fetchval
    assert await count("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 2
    rows = await registry.pool.fetch(
        "SELECT outcome FROM audit_log WHERE member_id = $1 AND action = 'records.submit' ORDER BY id", bank.id
    )
    assert [row["outcome"] for row in rows] == [200, 429, 200]


async def test_a_real_409_for_a_key_in_flight_is_retried_and_replays_the_first_answer(
    http, registry, wire, monkeypatch
):
    """Two calls of the SDK carry one Idempotency-Key (its key generator pinned). The first is
    held inside its transaction by a lock on the records table; the second gets the real 409
    with Retry-After, sleeps that long, and its retry replays the first call's answer."""
    bank = await registry.member()
    h, seen = wire
    key = uuid.uuid4()
    monkeypatch.setattr(sdk_base.uuid, "uuid4", lambda: key)
    holder, retrier = sdk(h, bank.client), sdk(h, bank.client)
    batch = [item(token(), f"IF-{n}") for n in range(3)]
    slept: list[float] = []

    async with registry.pool.acquire() as blocker:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE")
        held = asyncio.create_task(holder.records.submit(batch))
        await _until_waiting_on(registry.pool, "records")

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            await lock.rollback()  # the first call goes on and commits while the second waits
            await held

        retrier._sleep = sleep  # type: ignore[method-assign]
        replayed = await retrier.records.submit(batch)

    first = await held
    assert replayed == first and first.summary.created == 3
    assert seen.statuses("/v1/records") == [409, 200, 200]
    refused = seen.on("/v1/records")[0].headers
    assert refused["content-type"] == "application/problem+json" and refused["x-should-retry"] == "true"
    assert slept == [float(refused["retry-after"])]
    assert await registry.pool.fetchval("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 3


async def _until_waiting_on(pool, table: str, seconds: float = 30) -> None:
    """Until a backend waits for a lock on `table` (the held request reached its insert)."""
    deadline = time.monotonic() + seconds
    while not await pool.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass", table):
        assert time.monotonic() < deadline, f"no request came to wait on {table}"
        await asyncio.sleep(0.02)


@pytest.fixture
def token_clock(app, monkeypatch):
    """The service's token clock, set by the test (`token_clock.at = seconds`), on a fresh
    TokenService with the app's settings and keys."""
    from registry.auth.tokens import TokenService

    runtime = app.state.runtime

    class Clock:
        at = time.time()

    monkeypatch.setattr(runtime, "tokens", TokenService(runtime.settings, runtime.keys, clock=lambda: Clock.at))
    return Clock


async def test_a_real_401_gets_one_new_token_and_the_call_goes_through(registry, wire, token_clock, settings):
    """The service's clock passes the token's expiry while the SDK still holds it as fresh:
    the call is refused with a real 401, the SDK asks for a new token once and repeats it."""
    bank = await registry.member()
    h, seen = wire
    client = sdk(h, bank.client)
    assert [r async for r in client.records.list()] == []
    token_clock.at += settings.access_token_ttl_seconds + 31  # past exp and the 30 s leeway, on the service's side only
    assert [r async for r in client.records.list()] == []

    assert [(a.path, a.status) for a in seen.answers] == [
        ("/oauth/token", 200),
        ("/v1/records", 200),
        ("/v1/records", 401),
        ("/oauth/token", 200),
        ("/v1/records", 200),
    ]
    expired, renewed = seen.answers[2], seen.answers[4]
    assert expired.headers["www-authenticate"].startswith("Bearer")
    assert expired.request.headers["authorization"] != renewed.request.headers["authorization"]


async def test_real_problem_bodies_become_the_sdks_exceptions(registry, wire):
    """Status, class, title, detail, type, request_id and field errors as the service sends them."""
    lender = await registry.member(scopes=["records:read", "records:write"])
    h, seen = wire
    client = sdk(h, lender.client)
    admin = sdk(h, registry.admin)

    with pytest.raises(NotFound) as missing:
        await client.records.get(str(uuid.uuid4()))
    with pytest.raises(UnprocessableEntity) as invalid:
        await client.records.get("not-a-record-id")
    with pytest.raises(PermissionDenied) as forbidden:
        await client.exposure.query([token()], purpose="account_review")
    code = f"DUP{uuid.uuid4().hex[:8].upper()}"
    await admin.admin.members.create(code=code, name="Once", kind="bank")
    with pytest.raises(Conflict) as duplicate:
        await admin.admin.members.create(code=code, name="Twice", kind="bank")
    wrong = AsyncRegistryClient("http://registry.test", lender.client.client_id, "brs_not-the-secret", http_client=h)
    with pytest.raises(AuthenticationError) as unauthenticated:
        await wrong.records.get(str(uuid.uuid4()))

    for raised, status in ((missing, 404), (invalid, 422), (forbidden, 403), (duplicate, 409), (unauthenticated, 401)):
        error = raised.value
        answered = [a for a in seen.answers if a.status == status][-1]
        assert error.status == status and error.request_id == answered.headers["x-request-id"], (status, error)
        assert error.title and error.detail and error.body["status"] == status
        assert f"[request_id {error.request_id}]" in str(error)
    assert missing.value.type == missing.value.body["type"]
    assert [(e.field, e.message) for e in invalid.value.errors] == [
        (e["field"], e["message"]) for e in invalid.value.body["errors"]
    ] and invalid.value.errors[0].field.endswith("record_id")
    assert unauthenticated.value.body["error"] == "invalid_client"
    # Each refusal was answered once: a 409 the service says will not clear, and the 401 of
    # the token endpoint, are not retried.
    assert seen.statuses("/admin/members").count(409) == 1
    assert seen.statuses("/oauth/token").count(401) == 1
