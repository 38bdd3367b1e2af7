"""Watches: only on borrowers the member holds a live record on, listed with their tokens,
ended by withdrawal, and invisible and untouchable to other members."""

import pytest

from tests.factories import item, submit, token
from tests.monitoring_support import watched_subject


async def test_watch_list_and_remove(http, registry):
    bank = await registry.member()
    a, b = token(), token()
    assert (await submit(http, bank, item(a), item(b))).status_code == 200

    r = await http.post("/v1/watches", json={"subjects": [a, b.upper(), a], "label": "auto book"}, headers=bank.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "existing": 0}
    again = await http.post("/v1/watches", json={"subjects": [a]}, headers=bank.headers)
    assert again.json() == {"created": 0, "existing": 1}

    page = (await http.get("/v1/watches", params={"limit": 1}, headers=bank.headers)).json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    rest = (await http.get("/v1/watches", params={"cursor": page["next_cursor"]}, headers=bank.headers)).json()
    listed = page["data"] + rest["data"]
    assert rest["next_cursor"] is None
    assert sorted(w["subject"] for w in listed) == sorted([a, b])  # tokens come back, lower-case
    assert {w["label"] for w in listed} == {"auto book"}  # a re-watch without label keeps it

    assert (await http.delete(f"/v1/watches/{a}", headers=bank.headers)).status_code == 204
    assert (await http.delete(f"/v1/watches/{a}", headers=bank.headers)).status_code == 404
    assert [w["subject"] for w in (await http.get("/v1/watches", headers=bank.headers)).json()["data"]] == [b]
    assert len(await registry.audit_rows(member_id=bank.id, action="monitor.watch.add")) == 2


async def test_watching_a_borrower_without_own_live_record_is_refused_and_writes_nothing(http, registry):
    bank, other = await registry.member(), await registry.member()
    mine, theirs = token(), token()
    assert (await submit(http, bank, item(mine))).status_code == 200
    assert (await submit(http, other, item(theirs))).status_code == 200

    r = await http.post("/v1/watches", json={"subjects": [mine, theirs]}, headers=bank.headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["message"] for e in r.json()["errors"]] == [f"no live record of yours: {theirs}"]
    assert await registry.pool.fetchval("SELECT count(*) FROM watches WHERE member_id = $1", bank.id) == 0
    rows = await registry.audit_rows(member_id=bank.id, action="monitor.watch.add")
    assert [row["outcome"] for row in rows] == [403]


@pytest.mark.parametrize(
    "body",
    [
        {"subjects": []},
        {"subjects": ["xyz"]},
        {"subjects": ["a" * 64], "extra": 1},
        {"subjects": ["a" * 64] * 1001},
        {"subjects": ["a" * 64], "label": ""},
    ],
)
async def test_bad_watch_requests_are_422(http, registry, body):
    bank = await registry.member()
    r = await http.post("/v1/watches", json=body, headers=bank.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_scope_monitor_is_required(http, registry):
    bank = await registry.member(scopes=["records:write", "records:read"])
    assert (await http.get("/v1/watches", headers=bank.headers)).status_code == 403
    assert (await http.get("/v1/alerts", headers=bank.headers)).status_code == 403
    assert (await http.get("/v1/watches")).status_code == 401
    assert (await http.delete("/v1/watches/" + "0" * 64, headers=bank.headers)).status_code == 403


async def test_withdrawing_the_last_live_record_ends_the_watch(http, registry):
    bank = await registry.member()
    s = token()
    created = (await submit(http, bank, item(s, "W-1"), item(s, "W-2"))).json()["results"]
    assert (await http.post("/v1/watches", json={"subjects": [s]}, headers=bank.headers)).status_code == 200

    await http.delete(f"/v1/records/{created[0]['record_id']}", headers=bank.headers)
    assert len((await http.get("/v1/watches", headers=bank.headers)).json()["data"]) == 1  # W-2 still live

    await http.delete(f"/v1/records/{created[1]['record_id']}", headers=bank.headers)
    assert (await http.get("/v1/watches", headers=bank.headers)).json()["data"] == []
    assert await registry.pool.fetchval("SELECT count(*) FROM watches WHERE member_id = $1", bank.id) == 0


async def test_an_expired_record_no_longer_carries_a_watch(http, registry, clock):
    from datetime import UTC, datetime

    clock.set(datetime(2026, 12, 1, tzinfo=UTC))  # the record below is live on this day, whenever the test runs
    watched = await watched_subject(http, registry)
    settled = item(watched.subject, "EXP-1", status="settled", as_of="2026-11-01", closed_on="2026-11-01")
    assert (await submit(http, watched.watcher, settled)).status_code == 200
    await registry.pool.execute(
        "DELETE FROM records WHERE member_id = $1 AND account_ref <> 'EXP-1'", watched.watcher.id
    )
    assert len((await http.get("/v1/watches", headers=watched.watcher.headers)).json()["data"]) == 1
    clock.set(datetime(2031, 11, 2, tzinfo=UTC))  # five years after closing: the record expired
    assert (await http.get("/v1/watches", headers=watched.watcher.headers)).json()["data"] == []


async def test_other_members_cannot_see_or_remove_watches(http, registry):
    watched = await watched_subject(http, registry)
    intruder = await registry.member()
    assert (await http.get("/v1/watches", headers=intruder.headers)).json()["data"] == []
    assert (await http.delete(f"/v1/watches/{watched.subject}", headers=intruder.headers)).status_code == 404
    mine = (await http.get("/v1/watches", headers=watched.watcher.headers)).json()["data"]
    assert [w["subject"] for w in mine] == [watched.subject]
    assert (await http.delete("/v1/watches/not-a-token", headers=intruder.headers)).status_code == 422


async def test_adding_watches_is_retry_safe(http, registry):
    from tests.factories import item, submit, token

    bank = await registry.member()
    s = token()
    await submit(http, bank, item(s, "W-IDEM"))
    headers = {**bank.headers, "Idempotency-Key": f"watch-{bank.code}"}
    first = await http.post("/v1/watches", json={"subjects": [s]}, headers=headers)
    again = await http.post("/v1/watches", json={"subjects": [s]}, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert (await http.post("/v1/watches", json={"subjects": [s], "label": "x"}, headers=headers)).status_code == 422
