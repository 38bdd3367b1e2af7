"""Retention deletes exactly the expired records (with their events and their place in any
dispute), the inquiries and alerts older than 24 months and the finished webhook deliveries
older than 30 days, writes one audit row with the counts and never touches the audit log;
the daily pass runs once a day under an advisory lock."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from registry.retention import scheduler
from tests.factories import item, submit, token
from tests.monitoring_support import delinquent, watched_subject

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2024, 11, 28, 12, 0, tzinfo=UTC)  # 24 months before NOW

EXPIRED_COUNTS = """
SELECT (SELECT count(*) FROM records WHERE expires_on <= $1) AS records,
       (SELECT count(*) FROM record_events e JOIN records r ON r.id = e.record_id WHERE r.expires_on <= $1)
           AS record_events,
       (SELECT count(*) FROM inquiries WHERE at < $2) AS inquiries
"""


async def ask(http, member, subject, at, clock):
    clock.set(at)
    r = await http.post(
        "/v1/exposure",
        headers=member.headers,
        json={"subjects": [subject], "purpose": "loan_application", "consent_ref": "C-1"},
    )
    assert r.status_code == 200, r.text


@pytest.fixture
async def fixture(http, registry, clock):
    m, asker = await registry.member(), await registry.member()
    s = token()
    clock.set(NOW)
    # Delinquent, then settled on 2019-06-30: expired since 2024-06-30 (two events).
    for status, extra in (
        ("dpd_31_60", {"as_of": "2019-05-31"}),
        ("settled", {"closed_on": "2019-06-30", "as_of": "2019-06-30"}),
    ):
        r = await submit(
            http,
            m,
            item(
                s,
                "GONE-1",
                status=status,
                opened_on="2018-01-01",
                delinquent_since="2019-04-01",
                notice_sent_on="2019-04-10",
                **extra,
            ),
        )
        assert r.json()["summary"]["rejected"] == 0, r.text
    r = await submit(
        http,
        m,
        item(s, "GONE-TODAY", opened_on="2015-01-01", closed_on="2021-11-28", as_of="2021-11-28"),  # expires today
        item(s, "KEPT-TOMORROW", opened_on="2015-01-01", closed_on="2021-11-29", as_of="2021-11-29"),
        item(s, "KEPT-OPEN", status="dpd_1_30"),
    )
    ids = {x["account_ref"]: x["record_id"] for x in r.json()["results"]}
    clock.set(datetime(2026, 11, 27, tzinfo=UTC))  # the day before it expired
    dispute = await http.post(
        "/v1/disputes",
        headers=m.headers,
        json={"subject": s, "record_id": ids["GONE-TODAY"], "reason": "other", "statement": "old"},
    )
    assert dispute.status_code == 202, dispute.text
    await ask(http, asker, s, datetime(2024, 11, 28, 11, 59, 59, tzinfo=UTC), clock)  # one second too old
    await ask(http, asker, s, CUTOFF, clock)  # exactly 24 months: kept
    await ask(http, asker, s, datetime(2026, 11, 1, tzinfo=UTC), clock)
    clock.set(NOW)
    return {"m": m, "asker": asker, "subject": s, "ids": ids, "dispute": dispute.json()["id"]}


async def test_deletes_exactly_the_expired_rows_and_audits_the_counts(http, registry, fixture, pool):
    m, s = fixture["m"], fixture["subject"]
    expected = dict(await pool.fetchrow(EXPIRED_COUNTS, NOW.date(), CUTOFF))
    assert expected["records"] >= 2 and expected["record_events"] >= 3 and expected["inquiries"] >= 1
    audit_before = await pool.fetchrow("SELECT count(*) AS n, max(id) AS last FROM audit_log")
    records_before = await pool.fetchval("SELECT count(*) FROM records")

    r = await http.post("/admin/retention/run", headers=registry.admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in expected} == expected
    assert body["day"] == "2026-11-28" and body["inquiries_before"] == "2024-11-28T12:00:00Z"

    left = dict(await pool.fetchrow(EXPIRED_COUNTS, NOW.date(), CUTOFF))
    assert left == {"records": 0, "record_events": 0, "inquiries": 0}
    assert await pool.fetchval("SELECT count(*) FROM records") == records_before - expected["records"]
    mine = await pool.fetch("SELECT account_ref FROM records WHERE member_id = $1 ORDER BY account_ref", m.id)
    assert [row["account_ref"] for row in mine] == ["KEPT-OPEN", "KEPT-TOMORROW"]
    events = await pool.fetchval("SELECT count(*) FROM record_events WHERE member_id = $1", m.id)
    assert events == 2
    asked = await pool.fetch("SELECT at FROM inquiries WHERE member_id = $1 ORDER BY at", fixture["asker"].id)
    assert [row["at"] for row in asked] == [CUTOFF, datetime(2026, 11, 1, tzinfo=UTC)]
    # The dispute stays on file; its covered record went with retention.
    view = (await http.get(f"/admin/disputes/{fixture['dispute']}", headers=registry.admin.headers)).json()
    assert view["records"] == 1 and view["covered"] == []

    # One audit row, with the counts and no token; nothing else in the audit log changed.
    kept = await pool.fetchval("SELECT count(*) FROM audit_log WHERE id <= $1", audit_before["last"])
    assert kept == audit_before["n"]
    rows = await registry.audit_rows(action="retention.run", request_id=r.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["outcome"] == 200
    assert {k: rows[0]["details"][k] for k in expected} == expected and rows[0]["details"]["via"] == "api"
    assert s not in json.dumps(rows[0]["details"])

    again = (await http.post("/admin/retention/run", headers=registry.admin.headers)).json()
    assert (again["records"], again["record_events"], again["inquiries"]) == (0, 0, 0)


async def test_admin_only(http, fixture):
    assert (await http.post("/admin/retention/run", headers=fixture["m"].headers)).status_code == 403
    assert (await http.post("/admin/retention/run")).status_code == 401


async def test_the_daily_pass_runs_once_a_day_and_one_instance_at_a_time(app, pool, registry):
    db = app.state.runtime.db
    day_one = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    first = await scheduler.run_if_due(db, lambda: day_one)
    assert first is not None and first.day.isoformat() == "2026-11-29"
    assert await scheduler.run_if_due(db, lambda: day_one.replace(hour=15)) is None  # already ran that day

    day_two = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    async with pool.acquire() as other_instance:
        await other_instance.execute("SELECT pg_advisory_lock($1)", scheduler.RETENTION_LOCK)
        try:
            assert await scheduler.run_if_due(db, lambda: day_two) is None  # another instance holds the lock
        finally:
            await other_instance.execute("SELECT pg_advisory_unlock($1)", scheduler.RETENTION_LOCK)
    assert await scheduler.run_if_due(db, lambda: day_two) is not None
    rows = await pool.fetch(
        "SELECT client_id, details FROM audit_log WHERE action = 'retention.run' AND details->>'day' = ANY($1::text[])",
        ["2026-11-29", "2026-11-30"],
    )
    assert sorted((r["details"]["day"], r["client_id"]) for r in rows) == [
        ("2026-11-29", "scheduler"),
        ("2026-11-30", "scheduler"),
    ]


def test_cli_runs_a_pass_and_prints_the_counts(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=database_url, REGISTRY_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "registry", "retention", "run"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == {
        "day",
        "inquiries_before",
        "records",
        "record_events",
        "inquiries",
        "alerts_before",
        "alerts",
        "webhook_deliveries_before",
        "webhook_deliveries",
    }


async def test_old_alerts_and_finished_deliveries_go_pending_and_recent_ones_stay(http, registry, pool, clock):
    clock.set(NOW)
    source = await registry.member()
    first = await watched_subject(http, registry)
    second = await watched_subject(http, registry, watcher=first.watcher)
    watcher = first.watcher
    alert_ids = []
    for n, watched in enumerate((first, second)):
        await delinquent(http, source, watched.subject, f"RET-{n}", "dpd_31_60")
        alert_ids.append(await pool.fetchval("SELECT max(id) FROM alerts WHERE member_id = $1", watcher.id))

    async def alert(at: datetime) -> int:
        alert_id = alert_ids.pop(0)
        await pool.execute("UPDATE alerts SET at = $2 WHERE id = $1", alert_id, at)
        return alert_id

    async def delivery(alert_id: int | None, status: str, created_at: datetime) -> int:
        return await pool.fetchval(
            "INSERT INTO webhook_deliveries (member_id, alert_id, event, status, created_at) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            watcher.id,
            alert_id,
            "alert" if alert_id else "ping",
            status,
            created_at,
        )

    old_alert = await alert(datetime(2024, 11, 28, 11, 59, 59, tzinfo=UTC))  # one second too old
    kept_alert = await alert(CUTOFF)  # exactly 24 months: kept
    month_ago = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)  # 31 days before NOW
    gone = [
        await delivery(old_alert, "delivered", datetime(2026, 11, 27, tzinfo=UTC)),  # recent, but its alert goes
        await delivery(kept_alert, "delivered", month_ago),
        await delivery(None, "failed", month_ago),
        await delivery(None, "cancelled", month_ago),
    ]
    stay = [
        await delivery(kept_alert, "pending", month_ago),  # still being retried
        await delivery(None, "delivered", datetime(2026, 10, 29, 12, 0, 1, tzinfo=UTC)),  # within 30 days
    ]

    body = (await http.post("/admin/retention/run", headers=registry.admin.headers)).json()
    assert (
        body["alerts_before"] == "2024-11-28T12:00:00Z" and body["webhook_deliveries_before"] == "2026-10-29T12:00:00Z"
    )
    assert body["alerts"] >= 1 and body["webhook_deliveries"] >= len(gone)
    left = await pool.fetch("SELECT id FROM alerts WHERE member_id = $1", watcher.id)
    assert [r["id"] for r in left] == [kept_alert]
    left = await pool.fetch("SELECT id FROM webhook_deliveries WHERE member_id = $1 ORDER BY id", watcher.id)
    assert [r["id"] for r in left] == stay
    # The watcher's feed still starts cleanly after the purge.
    feed = await http.get("/v1/alerts", headers=watcher.headers)
    assert feed.status_code == 200 and [a["id"] for a in feed.json()["data"]] == [kept_alert]
