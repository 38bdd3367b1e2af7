"""Scorecards on a registry of their own (the quartiles cross every member): figures,
quartiles, percentiles and branches equal to those computed by hand; the branches CSV; the
league table; thresholds raising one association alert per crossing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from registry.scorecards import service as scorecards
from tests.factories import item, submit, token
from tests.scorecards.support import association_alerts

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AS_OF = date(2026, 10, 31)


def late(ref, *, overdue, recovered="0", branch=None, as_of=AS_OF, **fields):
    since = as_of - timedelta(days=60)
    return item(
        token(),
        ref,
        status="dpd_61_90",
        overdue_amount=overdue,
        recovered_amount=recovered,
        delinquent_since=since.isoformat(),
        notice_sent_on=since.isoformat(),
        opened_on="2020-01-01",
        as_of=as_of.isoformat(),
        branch_code=branch,
        **fields,
    )


def current(ref, branch=None, as_of=AS_OF):
    return item(token(), ref, branch_code=branch, as_of=as_of.isoformat())


@pytest.fixture
async def book(own_app):
    """Five lenders with figures chosen by hand (see each test)."""
    own_app.runtime.clock = lambda: NOW
    http, registry = own_app.http, own_app.registry
    members = {name: await registry.member() for name in "ABCDE"}
    reports = {
        # live 4, delinquent 2 (one under a payment plan), uncollected 1; recovered 100 of 100 + 400 overdue.
        "A": [
            current("A1", "N"),
            current("A2", "N"),
            late("A3", overdue="100", recovered="100", branch="S"),
            late("A4", overdue="300", arrangement="payment_plan"),
        ],
        "B": [current("B1"), current("B2")],
        "C": [late("C1", overdue="100", recovered="300")],
        "D": [current("D1"), current("D2"), current("D3"), late("D4", overdue="200")],
        "E": [current(f"E{i}", as_of=AS_OF - timedelta(days=10)) for i in range(5)],
    }
    for name, items in reports.items():
        r = await submit(http, members[name], *items)
        assert r.json()["summary"]["created"] == len(items), r.text
    return members


async def test_figures_quartiles_and_branches_equal_the_hand_computed(own_app, book):
    r = await own_app.http.get("/v1/scorecard", headers=book["A"].headers)
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["member"] == {
        "live_accounts": 4,
        "delinquency_rate": 0.5,
        "uncollected_rate": 0.5,
        "recovery_rate": 0.2,
        "reporting_age_days": 28,
        "disputes_upheld_share": None,
    }
    # delinquency rates 0, 0, .25, .5, 1; live 1, 2, 4, 4, 5; ages 28 (four times) and 38; uncollected
    # rates only for 3 members (A, C, D): under 5, so no quartile is shown.
    industry = card["industry"]
    assert industry["members"] == 5
    assert (industry["p25"]["delinquency_rate"], industry["median"]["delinquency_rate"]) == (0.0, 0.25)
    assert industry["p75"]["delinquency_rate"] == 0.5
    assert (
        industry["p25"]["live_accounts"],
        industry["median"]["live_accounts"],
        industry["p75"]["live_accounts"],
    ) == (
        2,
        4,
        4,
    )
    assert industry["median"]["reporting_age_days"] == 28 and industry["median"]["uncollected_rate"] is None
    # A's delinquency rate .5: 3 below, itself equal -> (3 + 0.5) / 5; live 4: 2 below, 2 equal -> 60.
    assert card["percentile"]["delinquency_rate"] == 70.0 and card["percentile"]["live_accounts"] == 60.0
    assert card["percentile"]["uncollected_rate"] is None
    assert [
        (b["branch_code"], b["live_accounts"], b["uncollected_rate"], b["recovery_rate"]) for b in card["branches"]
    ] == [
        ("N", 2, None, None),
        ("S", 1, 1.0, 0.5),
        (None, 1, 0.0, 0.0),
    ]
    assert len(card["series"]) == 12 and card["series"][-1]["month"] == "2026-11"
    assert card["series"][-1]["live_accounts"] == 4 and card["series"][0]["live_accounts"] is None


async def test_the_branches_csv_parses(own_app, book):
    r = await own_app.http.get("/v1/scorecard", headers={**book["A"].headers, "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["branch_code"], row["live_accounts"], row["delinquency_rate"]) for row in table] == [
        ("N", "2", "0.0"),
        ("S", "1", "1.0"),
        ("", "1", "1.0"),
    ]


async def test_a_write_shows_at_once_and_another_member_sees_only_its_own(own_app, book):
    await submit(own_app.http, book["B"], late("B3", overdue="50", branch="W"))
    card = (await own_app.http.get("/v1/scorecard", headers=book["B"].headers)).json()
    assert card["member"]["live_accounts"] == 3 and card["member"]["delinquency_rate"] == round(1 / 3, 4)
    assert [b["branch_code"] for b in card["branches"]] == ["W", None]  # none of A's branches


async def test_league_ranks_worst_first_with_branch_counts_and_csv(own_app, book):
    admin = own_app.registry.admin.headers
    r = await own_app.http.get("/admin/stats/league", params={"sort": "delinquency_rate"}, headers=admin)
    assert r.status_code == 200, r.text
    ranked = [(e["code"], e["delinquency_rate"], e["branches"]) for e in r.json()["members"]]
    codes = {m.code: n for n, m in book.items()}
    assert [(codes[c], rate, n) for c, rate, n in ranked] == [
        ("C", 1.0, 0),
        ("A", 0.5, 2),
        ("D", 0.25, 0),
        *sorted([("B", 0.0, 0), ("E", 0.0, 0)], key=lambda e: book[e[0]].code),
    ]
    r = await own_app.http.get(
        "/admin/stats/league", params={"sort": "recovery_rate"}, headers={**admin, "Accept": "text/csv"}
    )
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [codes[row["code"]] for row in table][:3] == ["D", "A", "C"]  # 0, .2, .75; no value last
    r = await own_app.http.get("/admin/stats/league", params={"sort": "size"}, headers=admin)
    assert r.status_code == 422
    assert (await own_app.http.get("/admin/stats/league", headers=book["A"].headers)).status_code == 403


async def test_one_alert_per_crossing_across_daily_checks(own_app, book):
    http, admin, db = own_app.http, own_app.registry.admin.headers, own_app.runtime.db
    codes = {m.code: n for n, m in book.items()}

    async def alerts(expect):
        body = await association_alerts(http, admin, expect=expect)
        return [(a["kind"], codes[a["details"]["member"]["code"]], a["details"]["value"]) for a in body["data"]], body

    r = await http.put("/admin/thresholds", json={"uncollected_rate": 0.6}, headers=admin)
    assert r.status_code == 200 and r.json()["uncollected_rate"] == 0.6, r.text
    assert (await http.get("/admin/thresholds", headers=admin)).json()["uncollected_rate"] == 0.6
    # New limits are checked at once: C and D stand at 1.0.
    seen, body = await alerts(2)
    assert sorted(seen) == [("member.threshold_crossed", "C", 1.0), ("member.threshold_crossed", "D", 1.0)]
    assert body["data"][0]["details"]["limit"] == 0.6 and body["data"][0]["details"]["figure"] == "uncollected_rate"
    # The daily checks that find them still crossed add nothing.
    for _ in range(2):
        await scorecards.daily_check(db, NOW)
    # A's write changes its figures (3 uncollected of 4 delinquent): checked without a daily check.
    await submit(http, book["A"], late("A5", overdue="10", branch="S"), late("A6", overdue="10", branch="S"))
    seen, _ = await alerts(3)
    assert seen[2:] == [("member.threshold_crossed", "A", 0.75)]
    # C acts on its account: no longer uncollected, back within the limit.
    await submit(
        http,
        book["C"],
        late(
            "C1",
            overdue="100",
            recovered="300",
            as_of=AS_OF + timedelta(days=1),
            last_collection_action_on=AS_OF.isoformat(),
        ),
    )
    seen, _ = await alerts(4)
    assert seen[3:] == [("member.threshold_cleared", "C", 0.0)]
    # Another day, every member where it stood: nothing new after the cursor.
    await scorecards.daily_check(db, NOW + timedelta(days=1))
    seen, body = await alerts(4)
    assert len(seen) == 4
    again = await association_alerts(http, admin, after=body["next_cursor"], seconds=0)
    assert again["data"] == []
    # Members cannot read the association's feed.
    assert (await http.get("/admin/alerts", headers=book["A"].headers)).status_code == 403


async def test_thresholds_refuse_unknown_figures_and_bad_limits(own_app, book):
    admin = own_app.registry.admin.headers
    for body in (
        {"disputes": 0.1},
        {"uncollected_rate": 2},
        {"reporting_age_days": -1},
        {"reporting_age_days": False},
        {"uncollected_rate": "0.3"},
        {"reporting_age_days": 4.5},
    ):
        r = await own_app.http.put("/admin/thresholds", json=body, headers=admin)
        assert r.status_code == 422, r.text


async def test_thresholds_read_back_as_set_and_a_figure_left_out_has_none(own_app, book):
    http, admin = own_app.http, own_app.registry.admin.headers
    r = await http.put("/admin/thresholds", json={"uncollected_rate": 0.3, "reporting_age_days": 45}, headers=admin)
    assert r.status_code == 200, r.text
    got = (await http.get("/admin/thresholds", headers=admin)).json()
    assert {k: got[k] for k in ("delinquency_rate", "uncollected_rate", "recovery_rate", "reporting_age_days")} == {
        "delinquency_rate": None,
        "uncollected_rate": 0.3,
        "recovery_rate": None,
        "reporting_age_days": 45,
    }
    await http.put("/admin/thresholds", json={"recovery_rate": 0.1}, headers=admin)
    got = (await http.get("/admin/thresholds", headers=admin)).json()
    assert (got["uncollected_rate"], got["reporting_age_days"], got["recovery_rate"]) == (None, None, 0.1)
    assert (await http.get("/admin/thresholds", headers=book["A"].headers)).status_code == 403
