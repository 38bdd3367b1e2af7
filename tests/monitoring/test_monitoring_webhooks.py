"""Webhooks: endpoint rules, signed deliveries to a real HTTP receiver on 127.0.0.1, retries
with backoff, nothing lost across a restart, and one member never touching another's."""

import asyncio
from datetime import timedelta

import httpx
import orjson
import pytest

from registry.app import create_app
from registry.config import Environment
from registry.core.errors import Invalid
from registry.monitoring.service import check_webhook_url
from registry.monitoring.signatures import HEADER, SignatureError, sign, verify
from tests.monitoring_support import Receiver, all_alerts, delinquent, watched_subject

SECRET = "test-signing-secret-0123456789"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def _hook(http, member, url, secret=SECRET):
    r = await http.put("/v1/webhook", json={"url": url, "secret": secret}, headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _deliveries(http, member):
    r = await http.get("/v1/webhook/deliveries", headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _runtime(app):
    return app.state.runtime


async def test_endpoint_rules_and_secret_shown_once(http, registry):
    bank = await registry.member()
    for url in (
        "http://lender.example/hook",
        "ftp://127.0.0.1/x",
        "https://user:pw@lender.example/h",
        "not a url",
        "https://lender.example:99999/h",
    ):
        r = await http.put("/v1/webhook", json={"url": url}, headers=bank.headers)
        assert r.status_code == 422, url
        assert r.json()["errors"][0]["field"] == "url"
    assert (
        await http.put("/v1/webhook", json={"url": "https://a.example/h", "secret": "short"}, headers=bank.headers)
    ).status_code == 422

    made = (await http.put("/v1/webhook", json={"url": "https://lender.example/hook"}, headers=bank.headers)).json()
    assert made["secret"].startswith("whsec_") and made["url"] == "https://lender.example/hook"
    shown = (await http.get("/v1/webhook", headers=bank.headers)).json()
    assert shown["secret"] is None and shown["url"] == made["url"]
    given = await _hook(http, bank, "http://127.0.0.1:9/hook")  # loopback http: allowed in test
    assert given["secret"] is None
    audit = await registry.audit_rows(member_id=bank.id, action="monitor.webhook.set")
    assert made["secret"] not in str([dict(row) for row in audit]) and SECRET not in str([dict(row) for row in audit])

    assert (await http.delete("/v1/webhook", headers=bank.headers)).status_code == 204
    assert (await http.get("/v1/webhook", headers=bank.headers)).status_code == 404
    assert (await http.post("/v1/webhook/test", headers=bank.headers)).status_code == 404


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://lender.example/h", True),
        ("http://127.0.0.1/h", False),
        ("https://127.0.0.1/h", False),
        ("https://10.1.2.3/h", False),
        ("https://[::1]/h", False),
        ("https://169.254.169.254/h", False),
        ("https://localhost/h", False),
    ],
)
def test_production_refuses_plain_http_and_internal_addresses(url, ok):
    if ok:
        check_webhook_url(url, Environment.production)
    else:
        with pytest.raises(Invalid):
            check_webhook_url(url, Environment.production)


def test_signature_verification():
    body = b'{"id":1}'
    header = sign(SECRET, 1_700_000_000, body)
    assert verify(body, header, SECRET, now=1_700_000_100) == 1_700_000_000
    for bad_body, bad_header, now in [
        (b'{"id":2}', header, 1_700_000_100),
        (body, header, 1_700_000_400),  # too old
        (body, header.replace("v1=", "v1=0"), 1_700_000_100),
        (body, "v1=abc", 1_700_000_100),
        (body, "t=1700000000,v1=\u00e9\u00e9", 1_700_000_100),  # non-ASCII: a refusal, not a crash
        (body, None, 1_700_000_100),
    ]:
        with pytest.raises(SignatureError):
            verify(bad_body, bad_header, SECRET, now=now)
    with pytest.raises(SignatureError):
        verify(body, header, "another-secret-0123456789", now=1_700_000_100)


async def test_alert_is_delivered_signed_to_a_real_receiver(http, registry, app, receiver):
    watched = await watched_subject(http, registry, label="retail")
    await _hook(http, watched.watcher, receiver.url)
    reporter = await registry.member()
    await delinquent(http, reporter, watched.subject, "D-1", "dpd_31_60")
    try:
        queued = await _deliveries(http, watched.watcher)
        assert [(d["event"], d["status"], d["attempts"]) for d in queued] == [("alert", "pending", 0)]
        assert receiver.received == []  # the API did not wait for the receiver

        assert await _runtime(app).deliveries.run_once() >= 1
        assert len(receiver.received) == 1
        got = receiver.received[0]
        verify(got.body, got.headers[HEADER.lower()], SECRET)
        payload = orjson.loads(got.body)
        alert = (await all_alerts(http, watched.watcher, expect=1))[0]
        assert payload["type"] == "alert" and payload["data"] == alert
        assert payload["data"]["subject"] == watched.subject and payload["data"]["label"] == "retail"
        assert got.headers["registry-delivery"] == str(payload["id"]) == str(queued[0]["id"])
        for secret in (str(reporter.id), reporter.code):
            assert secret not in got.body.decode()

        [done] = await _deliveries(http, watched.watcher)
        assert (done["status"], done["attempts"], done["last_status_code"], done["alert_id"]) == (
            "delivered",
            1,
            200,
            alert["id"],
        )
        await _runtime(app).deliveries.run_once()
        assert len(receiver.received) == 1  # delivered once
    finally:
        await http.delete("/v1/webhook", headers=watched.watcher.headers)


async def test_failed_deliveries_are_retried_with_backoff_then_given_up(http, registry, app, receiver):
    watched = await watched_subject(http, registry)
    await _hook(http, watched.watcher, receiver.url)
    receiver.statuses = [500, 503]
    worker = _runtime(app).deliveries
    try:
        await delinquent(http, (await registry.member()), watched.subject, "F-1", "dpd_1_30")
        [queued] = await _deliveries(http, watched.watcher)
        start = _runtime(app).clock()

        await worker.run_once(start)
        [first] = await _deliveries(http, watched.watcher)
        assert (first["status"], first["attempts"], first["last_error"]) == ("pending", 1, "HTTP 500")
        await worker.run_once(start)  # not due yet: backoff
        assert len(receiver.received) == 1

        await worker.run_once(start + timedelta(minutes=2))
        [second] = await _deliveries(http, watched.watcher)
        assert (second["status"], second["attempts"], second["last_status_code"]) == ("pending", 2, 503)
        assert second["next_attempt_at"] > first["next_attempt_at"]

        await worker.run_once(start + timedelta(minutes=10))
        [third] = await _deliveries(http, watched.watcher)
        assert (third["status"], third["attempts"], third["last_status_code"]) == ("delivered", 3, 200)
        assert len(receiver.received) == 3
        assert len({r.body for r in receiver.received}) == 1  # the same delivery each time
        for r in receiver.received:
            verify(r.body, r.headers[HEADER.lower()], SECRET, tolerance=10**6)
        assert third["id"] == queued["id"]

        # A receiver that stays down is tried for 24 hours, then the delivery is failed.
        receiver.statuses = [500] * 5
        assert (await http.post("/v1/webhook/test", headers=watched.watcher.headers)).status_code == 202
        pinged = _runtime(app).clock()
        await worker.run_once(pinged)
        await worker.run_once(pinged + timedelta(hours=25))
        ping = (await _deliveries(http, watched.watcher))[0]
        assert (ping["event"], ping["status"], ping["attempts"]) == ("ping", "failed", 2)
    finally:
        await http.delete("/v1/webhook", headers=watched.watcher.headers)


async def test_a_receiver_that_is_down_loses_nothing(http, registry, app, receiver):
    watched = await watched_subject(http, registry)
    closed = Receiver()
    closed.close()  # nothing listens on its port any more
    await _hook(http, watched.watcher, closed.url)
    try:
        await delinquent(http, (await registry.member()), watched.subject, "N-1", "dpd_1_30")
        start = _runtime(app).clock()
        await _runtime(app).deliveries.run_once(start)
        [failed] = await _deliveries(http, watched.watcher)
        assert failed["status"] == "pending" and failed["last_error"].startswith("ConnectError")
        await _hook(http, watched.watcher, receiver.url)  # the member fixes its endpoint
        await _runtime(app).deliveries.run_once(start + timedelta(hours=2))
        assert [orjson.loads(r.body)["type"] for r in receiver.received] == ["alert"]
    finally:
        await http.delete("/v1/webhook", headers=watched.watcher.headers)


async def test_nothing_is_lost_when_the_service_restarts_between_write_and_delivery(http, registry, settings, receiver):
    watched = await watched_subject(http, registry)
    await _hook(http, watched.watcher, receiver.url)
    reporter = await registry.member()

    first = create_app(settings)
    async with (
        first.router.lifespan_context(first),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://registry.test") as client,
    ):
        await delinquent(client, reporter, watched.subject, "RS-1", "dpd_61_90")
    # The first instance stopped; nothing was delivered, the outbox row is waiting.
    assert receiver.received == []
    assert [d["status"] for d in await _deliveries(http, watched.watcher)] == ["pending"]

    second = create_app(settings.model_copy(update={"webhook_poll_seconds": 0.05}))
    try:
        async with second.router.lifespan_context(second):  # its worker starts with the lifespan
            for _ in range(400):
                if receiver.received:
                    break
                await asyncio.sleep(0.05)
            for _ in range(100):
                if (await _deliveries(http, watched.watcher))[0]["status"] == "delivered":
                    break
                await asyncio.sleep(0.05)
        [got] = receiver.received
        verify(got.body, got.headers[HEADER.lower()], SECRET)
        assert orjson.loads(got.body)["data"]["status"] == "dpd_61_90"
        assert (await _deliveries(http, watched.watcher))[0]["status"] == "delivered"
    finally:
        await http.delete("/v1/webhook", headers=watched.watcher.headers)


async def test_ping_and_deleting_the_webhook_cancels_what_is_pending(http, registry, app, receiver):
    bank = await registry.member()
    await _hook(http, bank, receiver.url)
    r = await http.post("/v1/webhook/test", headers=bank.headers)
    assert r.status_code == 202 and r.json()["event"] == "ping"
    await _runtime(app).deliveries.run_once()
    [got] = receiver.received
    assert orjson.loads(got.body)["type"] == "ping" and got.headers["registry-event"] == "ping"
    verify(got.body, got.headers[HEADER.lower()], SECRET)

    await http.post("/v1/webhook/test", headers=bank.headers)
    assert (await http.delete("/v1/webhook", headers=bank.headers)).status_code == 204
    assert [d["status"] for d in await _deliveries(http, bank)] == ["cancelled", "delivered"]
    await _runtime(app).deliveries.run_once()
    assert len(receiver.received) == 1


async def test_other_members_cannot_see_or_change_webhooks_deliveries_or_alerts(http, registry, app, receiver):
    watched = await watched_subject(http, registry)
    await _hook(http, watched.watcher, receiver.url)
    intruder = await registry.member()
    try:
        await delinquent(http, intruder, watched.subject, "I-1", "dpd_1_30")
        await http.post("/v1/webhook/test", headers=watched.watcher.headers)
        assert len(await _deliveries(http, watched.watcher)) == 2

        assert (await http.get("/v1/webhook", headers=intruder.headers)).status_code == 404
        assert (await http.delete("/v1/webhook", headers=intruder.headers)).status_code == 404
        assert (await http.post("/v1/webhook/test", headers=intruder.headers)).status_code == 404
        assert await _deliveries(http, intruder) == []
        assert await all_alerts(http, intruder) == []
        assert (await http.get("/v1/webhook", headers=watched.watcher.headers)).json()["url"] == receiver.url
        assert len(await all_alerts(http, watched.watcher, expect=1)) == 1
        # An intruder's PUT sets its own endpoint only.
        await _hook(http, intruder, "https://intruder.example/h")
        assert (await http.get("/v1/webhook", headers=watched.watcher.headers)).json()["url"] == receiver.url
    finally:
        await http.delete("/v1/webhook", headers=watched.watcher.headers)
        await http.delete("/v1/webhook", headers=intruder.headers)
