"""Association alerts: raised by any domain through one service function, read in the
association's feed (`GET /admin/alerts`) and delivered, signed, to the association's own
webhook through the monitoring outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from registry.monitoring import association
from registry.monitoring.signatures import HEADER, verify
from tests.monitoring_support import Receiver
from tests.scorecards.support import association_alerts

SECRET = "association-signing-secret-0123"
AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def test_raised_once_read_in_the_feed_and_delivered_to_the_association_webhook(own_app, receiver):
    http, registry, runtime = own_app.http, own_app.registry, own_app.runtime
    lender = await registry.member()
    monitor = await registry.client(registry.admin.member_id, ["monitor"])  # the association's own client
    r = await http.put("/v1/webhook", json={"url": receiver.url, "secret": SECRET}, headers=monitor.headers)
    assert r.status_code == 200, r.text

    details = {"dispute_id": "d-1", "member": {"id": str(lender.id), "code": lender.code}, "days_overdue": 3}
    async with runtime.db.system_pool.acquire() as conn, conn.transaction():
        alert_id = await association.raise_association_alert(
            conn, association.DISPUTE_OVERDUE, member_id=lender.id, details=details, at=AT
        )
    assert alert_id is not None

    feed = await association_alerts(http, registry.admin.headers, expect=1)
    assert [(a["id"], a["kind"], a["details"]) for a in feed["data"]] == [(alert_id, "dispute.overdue", details)]
    # The association's member feed shows it too (one feed, one cursor rule); a lender's does not.
    assert [a["id"] for a in (await http.get("/v1/alerts", headers=monitor.headers)).json()["data"]] == [alert_id]
    assert (await http.get("/v1/alerts", headers=lender.headers)).json()["data"] == []

    assert await runtime.deliveries.run_once() >= 1
    [got] = receiver.received
    verify(got.body, got.headers[HEADER.lower()], SECRET)
    payload = orjson.loads(got.body)
    assert payload["type"] == "alert" and payload["data"]["kind"] == "dispute.overdue"
    assert payload["data"]["details"] == details and payload["data"]["id"] == alert_id


async def test_only_association_kinds_are_raised(own_app):
    async with own_app.runtime.db.system_pool.acquire() as conn:
        with pytest.raises(ValueError):
            await association.raise_association_alert(conn, "new_delinquency", member_id=None, details={}, at=AT)
