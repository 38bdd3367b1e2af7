"""Alerts: another member's new or worse delinquency, or hard inquiry, on a watched borrower
raises exactly one alert per watcher (never for the reporter, never naming it); the feed
returns every alert exactly once, also while writers commit out of id order."""

import asyncio
import random
import time
from datetime import UTC, date, datetime

from registry.core.tenancy import Member, Tenancy
from registry.records.service import write_valid
from registry.records.validation import validate_item
from tests.factories import item, submit
from tests.monitoring_support import all_alerts, delinquent, read_feed, watched_subject


async def test_another_members_delinquency_alerts_each_watcher_once_and_never_the_reporter(http, registry):
    first = await watched_subject(http, registry, label="branch 12")
    second = await watched_subject(http, registry)
    s = first.subject
    assert (await http.post("/v1/watches", json={"subjects": [s]}, headers=second.watcher.headers)).status_code == 403
    assert (await submit(http, second.watcher, item(s, "SECOND-1"))).status_code == 200
    assert (await http.post("/v1/watches", json={"subjects": [s]}, headers=second.watcher.headers)).status_code == 200

    reporter = await registry.member()
    # The reporter watches the subject too: its own report must not alert it.
    await submit(http, reporter, item(s, "REP-0"))
    assert (await http.post("/v1/watches", json={"subjects": [s]}, headers=reporter.headers)).status_code == 200
    # Two accounts go delinquent in one batch: still one alert per watcher.
    r = await submit(
        http,
        reporter,
        item(s, "REP-1", status="dpd_31_60", overdue_amount="100.00", as_of="2026-11-15"),
        item(s, "REP-2", status="dpd_1_30", overdue_amount="100.00", as_of="2026-11-15"),
    )
    assert r.json()["summary"]["created"] == 2

    alerts = await all_alerts(http, first.watcher, expect=1)
    assert len(alerts) == 1
    alert = alerts[0]
    assert set(alert) == {"id", "subject", "label", "kind", "status", "at"}
    assert (alert["subject"], alert["label"], alert["kind"], alert["status"]) == (
        s,
        "branch 12",
        "new_delinquency",
        "dpd_31_60",
    )
    assert [a["subject"] for a in await all_alerts(http, second.watcher, expect=1)] == [s]
    assert await all_alerts(http, reporter) == []
    raw = (await http.get("/v1/alerts", headers=first.watcher.headers)).text
    for secret in (str(reporter.id), reporter.code, reporter.name):
        assert secret not in raw

    # Resubmitting the same report changes nothing and alerts no one.
    await submit(http, reporter, item(s, "REP-1", status="dpd_31_60", overdue_amount="100.00", as_of="2026-11-15"))
    assert len(await all_alerts(http, first.watcher, expect=1)) == 1


async def test_worsening_alerts_and_improvement_does_not(http, registry):
    watched = await watched_subject(http, registry)
    reporter = await registry.member()
    s = watched.subject
    steps = [
        ("current", "2026-10-01", None),
        ("dpd_1_30", "2026-10-15", ("new_delinquency", "dpd_1_30")),
        ("dpd_61_90", "2026-11-01", ("worsened", "dpd_61_90")),
        ("dpd_61_90", "2026-11-10", None),  # same status, newer report
        ("dpd_31_60", "2026-11-15", None),  # better
        ("current", "2026-11-20", None),
        ("dpd_1_30", "2026-11-25", ("new_delinquency", "dpd_1_30")),  # delinquent again
        ("written_off", "2026-11-26", ("worsened", "written_off")),
    ]
    expected = []
    for status, as_of, alert in steps:
        if status == "current":
            assert (await submit(http, reporter, item(s, "ACC", as_of=as_of))).status_code == 200
        else:
            await delinquent(http, reporter, s, "ACC", status, as_of)
        if alert:
            expected.append(alert)
        assert [
            (a["kind"], a["status"]) for a in await all_alerts(http, watched.watcher, expect=len(expected))
        ] == expected, status
    # A stale report of a worse status is ignored, and so raises nothing.
    await delinquent(http, reporter, s, "ACC", "dpd_over_180", "2026-10-20")
    assert len(await all_alerts(http, watched.watcher, expect=len(expected))) == len(expected)


async def test_no_alert_after_the_watch_ended(http, registry):
    watched = await watched_subject(http, registry)
    own = (await http.get("/v1/records", headers=watched.watcher.headers)).json()["data"][0]
    await http.delete(f"/v1/records/{own['id']}", headers=watched.watcher.headers)
    reporter = await registry.member()
    await delinquent(http, reporter, watched.subject, "X-1", "dpd_91_180")
    assert await all_alerts(http, watched.watcher) == []


async def _exposure(http, member, subject, purpose="loan_application"):
    body = {"subjects": [subject], "purpose": purpose}
    if purpose == "loan_application":
        body["consent_ref"] = "CONSENT-1"
    r = await http.post("/v1/exposure", json=body, headers=member.headers)
    assert r.status_code == 200, r.text


async def test_hard_inquiries_alert_once_per_inquiring_institution_per_day(http, registry, clock):
    watched = await watched_subject(http, registry)
    s = watched.subject
    lender_a, lender_b = await registry.member(), await registry.member()
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    await _exposure(http, lender_a, s)
    await _exposure(http, lender_a, s)
    clock.set(datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
    await _exposure(http, lender_a, s)
    await _exposure(http, lender_b, s)
    await _exposure(http, watched.watcher, s)  # the watcher's own inquiry
    clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    await _exposure(http, lender_a, s)
    # A soft inquiry (needs a record of the caller) is no alert.
    await submit(http, lender_b, item(s, "B-1"))
    await _exposure(http, lender_b, s, purpose="account_review")

    alerts = await all_alerts(http, watched.watcher, expect=3)
    assert [(a["kind"], a["status"], a["at"][:10]) for a in alerts] == [
        ("hard_inquiry", None, "2026-11-20"),
        ("hard_inquiry", None, "2026-11-20"),
        ("hard_inquiry", None, "2026-11-21"),
    ]
    assert all(a["subject"] == s for a in alerts)
    assert await all_alerts(http, lender_a) == []


async def test_feed_cursor_pages_and_is_always_present(http, registry):
    watched = await watched_subject(http, registry)
    empty = await read_feed(http, watched.watcher)
    assert empty["data"] == [] and empty["next_cursor"]
    reporters = [await registry.member() for _ in range(3)]
    for i, reporter in enumerate(reporters):
        await delinquent(http, reporter, watched.subject, f"R-{i}", "dpd_1_30")

    first = await read_feed(http, watched.watcher, after=empty["next_cursor"], limit=2)
    second = await read_feed(http, watched.watcher, after=first["next_cursor"], limit=2)
    third = await read_feed(http, watched.watcher, after=second["next_cursor"], limit=2)
    assert len(first["data"]) == 2 and len(second["data"]) == 1 and third["data"] == []
    assert third["next_cursor"] == second["next_cursor"]
    ids = [a["id"] for a in first["data"] + second["data"]]
    assert len(set(ids)) == 3
    assert [a["id"] for a in await all_alerts(http, watched.watcher, expect=len(ids))] == ids
    for bad in ("garbage", "WzEsMiwzXQ", "WyJ4IiwxXQ"):
        r = await http.get("/v1/alerts", params={"after": bad}, headers=watched.watcher.headers)
        assert r.status_code == 422, bad


async def _write_delinquency_in_tx(conn, app, reporter_id, subject, account_ref):
    """What POST /v1/records does inside its transaction, on a connection the test holds."""
    valid = validate_item(
        0,
        item(subject, account_ref, status="dpd_1_30", overdue_amount="10.00", as_of="2026-11-15"),
        app.state.runtime.keys.server_key,
        date(2026, 11, 28),
    )
    runtime = app.state.runtime
    await write_valid(conn, Tenancy(runtime.prover, Member(reporter_id), "test"), [valid])


DRAIN_SECONDS = 30  # how long a reader waits for committed alerts to become visible


async def test_a_transaction_that_commits_after_a_higher_id_is_not_skipped(http, registry, app):
    watched = await watched_subject(http, registry)
    late, early = await registry.member(), await registry.member()
    start = (await read_feed(http, watched.watcher))["next_cursor"]

    async with registry.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await _write_delinquency_in_tx(conn, app, late.id, watched.subject, "LATE-1")  # takes the lower id
        await delinquent(http, early, watched.subject, "EARLY-1", "dpd_1_30")  # higher id, commits first
        held_back = await read_feed(http, watched.watcher, after=start)
        await tx.commit()

    assert held_back["data"] == [] and held_back["next_cursor"] == start
    ids = await registry.pool.fetch("SELECT id, source_member_id FROM alerts WHERE member_id = $1", watched.watcher.id)
    by_source = {row["source_member_id"]: row["id"] for row in ids}
    assert by_source[late.id] < by_source[early.id]  # the order a naive `id > cursor` feed would skip

    after_commit = await read_feed(http, watched.watcher, after=start)
    assert [a["id"] for a in after_commit["data"]] == [by_source[late.id], by_source[early.id]]
    assert (await read_feed(http, watched.watcher, after=after_commit["next_cursor"]))["data"] == []


async def test_feed_is_exactly_once_under_concurrent_writers(http, registry, app):
    watched = await watched_subject(http, registry)
    reporters = [await registry.member() for _ in range(4)]
    rng = random.Random(8)
    committed: list[str] = []
    writers_done = asyncio.Event()

    async def writer(n: int) -> None:
        reporter = reporters[n % len(reporters)]
        async with registry.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            await _write_delinquency_in_tx(conn, app, reporter.id, watched.subject, f"C-{n}")
            await asyncio.sleep(rng.random() * 0.05)
            if n % 5 == 4:
                await tx.rollback()  # never seen
            else:
                await tx.commit()
                committed.append(f"C-{n}")

    seen: list[int] = []
    reads = 0

    async def reader() -> str:
        """Reads while the writers write, then drains: an empty page only means nothing is
        visible yet (a transaction anywhere on the server may still hold alerts back), so it
        reads on until every committed alert arrived or the deadline passed."""
        nonlocal reads
        cursor = None
        deadline = None
        while True:
            page = await read_feed(http, watched.watcher, after=cursor, limit=3)
            reads += 1
            seen.extend(a["id"] for a in page["data"])
            cursor = page["next_cursor"]
            if writers_done.is_set():
                deadline = deadline or time.monotonic() + DRAIN_SECONDS
                if len(seen) >= len(committed) or time.monotonic() > deadline:
                    return cursor
            await asyncio.sleep(0.002 if page["data"] else 0.05)

    reading = asyncio.create_task(reader())
    for batch in range(5):
        await asyncio.gather(*(writer(batch * 6 + i) for i in range(6)))
    writers_done.set()
    last_cursor = await reading
    # Nothing more after the drain: the feed neither repeats nor invents alerts.
    assert (await read_feed(http, watched.watcher, after=last_cursor))["data"] == []
    stored = await registry.pool.fetch("SELECT id FROM alerts WHERE member_id = $1 ORDER BY id", watched.watcher.id)
    assert len(stored) == len(committed) == 24
    assert len(seen) == len(set(seen))  # nothing twice
    assert sorted(seen) == [row["id"] for row in stored]  # nothing skipped
    assert reads > 5


async def test_an_upload_raises_alerts_the_same_way(http, registry):
    import orjson

    watched = await watched_subject(http, registry)
    reporter = await registry.member()
    lines = [
        item(watched.subject, f"UP-{n}", status="dpd_91_180", overdue_amount="50.00", as_of="2026-11-15")
        for n in range(3)
    ]
    body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    r = await http.post(
        "/v1/uploads", content=body, headers={**reporter.headers, "Content-Type": "application/x-ndjson"}
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "completed"
    assert [(a["kind"], a["status"]) for a in await all_alerts(http, watched.watcher, expect=1)] == [
        ("new_delinquency", "dpd_91_180")
    ]
    assert await all_alerts(http, reporter) == []
