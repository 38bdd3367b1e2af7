"""Dispute alerts: each lender whose record a dispute covers hears of it at once (feed and
webhook), is reminded five days before the deadline while it has not answered (once, however
often the check runs), and hears the outcome; the association is told once of each dispute left
overdue. No alert tells a lender who filed or which other lenders the dispute covers."""

import logging
import uuid
from datetime import timedelta

import orjson
import pytest

from registry.disputes import notifications
from registry.monitoring.signatures import HEADER, verify
from tests.disputes.support import DEADLINE, NOW, delinquent, file, filed, resolve
from tests.factories import submit, token
from tests.monitoring_support import Receiver, all_alerts

SECRET = "dispute-alerts-secret-0123456789"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def raised(registry, member, dispute_id):
    """The kinds of alert about the dispute stored for the member, read from the table: the
    feed holds an alert back while any older transaction on the server runs, so an empty feed
    proves nothing."""
    found = await registry.pool.fetch(
        "SELECT kind FROM alerts WHERE member_id = $1 AND dispute_id = $2 ORDER BY id", member.id, uuid.UUID(dispute_id)
    )
    return [r["kind"] for r in found]


def dispute_alerts(alerts, dispute_id, kind=None):
    return [a for a in alerts if a.get("dispute_id") == dispute_id and (kind is None or a["kind"] == kind)]


async def respond(http, member, dispute_id, record_id, action="confirm", **fields):
    body = {"record_id": record_id, "action": action, "note": "checked", **fields}
    r = await http.post(f"/v1/disputes/{dispute_id}/response", json=body, headers=member.headers)
    assert r.status_code == 200, r.text


async def check(app, moment):
    """One pass of the periodic deadline check, as the service runs it (its system pool)."""
    async with app.state.runtime.db.system_pool.acquire() as conn:
        return await notifications.check_deadlines(conn, moment)


def assert_tells_nothing_of(alert, *others):
    text = orjson.dumps(alert).decode()
    for other in others:
        for secret in (str(other.id), other.code, other.name):
            assert secret not in text, (secret, alert)


async def test_opened_reaches_each_covered_lender_at_once_with_its_own_records_only(
    http, registry, world, app, receiver
):
    a, b, c, d, ids = world["a"], world["b"], world["c"], world["d"], world["ids"]
    r = await http.put("/v1/webhook", json={"url": receiver.url, "secret": SECRET}, headers=b.headers)
    assert r.status_code == 200, r.text
    try:
        dispute = await filed(http, world)
        [b_alert] = dispute_alerts(await all_alerts(http, b, expect=1), dispute["id"])
        assert b_alert == {
            "id": b_alert["id"],
            "subject": None,
            "label": None,
            "kind": "dispute.opened",
            "status": None,
            "at": b_alert["at"],
            "dispute_id": dispute["id"],
            "reason": "already_settled",
            "deadline": b_alert["deadline"],
            "resolution": None,
            "records": [{"record_id": ids["B-1"], "account_ref": "B-1", "outcome": None}],
        }
        assert b_alert["deadline"].replace("Z", "+00:00") == DEADLINE.isoformat()
        [c_alert] = dispute_alerts(await all_alerts(http, c, expect=1), dispute["id"])
        assert [x["account_ref"] for x in c_alert["records"]] == ["C-1"]  # not the current C-2
        # The filer holds no covered record, the bystander none at all: neither hears of it.
        assert await raised(registry, a, dispute["id"]) == [] and await raised(registry, d, dispute["id"]) == []
        # Who filed and who else is covered stay unsaid.
        assert_tells_nothing_of(b_alert, a, c)
        assert ids["C-1"] not in orjson.dumps(b_alert).decode()
        assert_tells_nothing_of(c_alert, a, b)

        # The webhook carries the same alert, signed.
        assert await app.state.runtime.deliveries.run_once() >= 1
        [got] = [x for x in receiver.received if orjson.loads(x.body)["data"].get("dispute_id") == dispute["id"]]
        verify(got.body, got.headers[HEADER.lower()], SECRET, now=NOW.timestamp())  # signed at the service clock
        assert orjson.loads(got.body)["data"] == b_alert
    finally:
        await http.delete("/v1/webhook", headers=b.headers)


async def test_deadline_near_reminds_only_lenders_that_have_not_answered_once(http, registry, world, clock, app):
    b, c, ids = world["b"], world["c"], world["ids"]
    dispute = await filed(http, world)
    clock.set(NOW + timedelta(days=2))
    await respond(http, b, dispute["id"], ids["B-1"])

    await check(app, DEADLINE - timedelta(days=5, seconds=1))
    assert await raised(registry, c, dispute["id"]) == ["dispute.opened"]

    for moment in (DEADLINE - timedelta(days=5), DEADLINE - timedelta(days=4), DEADLINE - timedelta(days=1)):
        await check(app, moment)
        await check(app, moment)
    assert await raised(registry, c, dispute["id"]) == ["dispute.opened", "dispute.deadline_near"]
    [reminder] = dispute_alerts(await all_alerts(http, c, expect=2), dispute["id"], "dispute.deadline_near")
    assert reminder["records"] == [{"record_id": ids["C-1"], "account_ref": "C-1", "outcome": None}]
    assert reminder["at"].replace("Z", "+00:00") == (DEADLINE - timedelta(days=5)).isoformat()
    assert_tells_nothing_of(reminder, world["a"], b)
    # B answered for all its records: no reminder.
    assert await raised(registry, b, dispute["id"]) == ["dispute.opened"]


async def test_a_lender_that_answered_part_is_reminded_of_the_rest(http, registry, clock, app):
    clock.set(NOW)
    filer, lender = await registry.member(), await registry.member()
    s = token()
    r = await submit(http, lender, delinquent(s, "L-1"), delinquent(s, "L-2"))
    ids = {x["account_ref"]: x["record_id"] for x in r.json()["results"]}
    r = await file(http, filer, s, consent_ref="CONSENT-L")
    assert r.status_code == 202, r.text
    dispute_id = r.json()["id"]
    await respond(http, lender, dispute_id, ids["L-1"])
    await check(app, DEADLINE - timedelta(days=3))
    [reminder] = dispute_alerts(await all_alerts(http, lender, expect=2), dispute_id, "dispute.deadline_near")
    assert [x["account_ref"] for x in reminder["records"]] == ["L-2"]


async def test_resolved_tells_each_lender_the_outcome_of_its_records(http, registry, world, clock):
    b, c, ids = world["b"], world["c"], world["ids"]
    dispute = await filed(http, world)
    clock.set(NOW + timedelta(days=4))
    r = await resolve(http, registry, dispute["id"], "upheld")
    assert r.status_code == 200, r.text
    for member, ref in ((b, "B-1"), (c, "C-1")):
        [resolved] = dispute_alerts(await all_alerts(http, member, expect=2), dispute["id"], "dispute.resolved")
        assert resolved["resolution"] == "upheld"
        assert resolved["records"] == [{"record_id": ids[ref], "account_ref": ref, "outcome": "suppressed"}]
        assert resolved["at"].replace("Z", "+00:00") == (NOW + timedelta(days=4)).isoformat()
    assert_tells_nothing_of(resolved, world["a"], b)
    assert await raised(registry, world["a"], dispute["id"]) == []
    assert await raised(registry, world["d"], dispute["id"]) == []


async def test_other_members_never_read_a_lenders_dispute_alerts(http, registry, world):
    dispute = await filed(http, world)
    mine = dispute_alerts(await all_alerts(http, world["b"], expect=1), dispute["id"])
    assert len(mine) == 1
    for other in (world["a"], world["c"], world["d"]):
        assert mine[0]["id"] not in [x["id"] for x in await all_alerts(http, other)]
    owners = await registry.pool.fetch(
        "SELECT id, member_id FROM alerts WHERE dispute_id = $1", uuid.UUID(dispute["id"])
    )
    assert {r["id"]: r["member_id"] for r in owners}[mine[0]["id"]] == world["b"].id
    assert {r["member_id"] for r in owners} == {world["b"].id, world["c"].id}


async def test_overdue_disputes_are_told_to_the_association_once_each(http, registry, world, clock, app, caplog):
    late = await filed(http, world)
    clock.set(NOW + timedelta(days=1))
    answered_in_time = await filed(http, world)
    r = await resolve(http, registry, answered_in_time["id"], "rejected")
    assert r.status_code == 200, r.text

    before = await check(app, DEADLINE - timedelta(seconds=1))
    assert late["id"] not in [str(x.id) for x in before.overdue]

    with caplog.at_level(logging.WARNING, logger="registry.disputes.notifications"):
        first = await check(app, DEADLINE)
    told = {str(x.id): x for x in first.overdue}
    assert late["id"] in told and answered_in_time["id"] not in told
    assert told[late["id"]].records_covered == 2
    assert [r.dispute_id for r in caplog.records if getattr(r, "dispute_id", None) == late["id"]] == [late["id"]]

    for moment in (DEADLINE, DEADLINE + timedelta(days=3)):
        again = await check(app, moment)
        assert late["id"] not in [str(x.id) for x in again.overdue]
