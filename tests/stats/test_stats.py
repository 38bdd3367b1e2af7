"""Statistics equal hand-computed figures on a fixture: one member's records, rates, overdue
sums, timeliness, disputes, inquiries and stacking, and its 12-month series. The database is
shared with other tests, so industry figures are checked for consistency with the members'.
Record figures come from the trigger-kept ledger: it must equal a count of the records
themselves on any day, before and after folding, and follow a write at once."""

from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from registry.core.tenancy import Member
from registry.stats import repository, service
from tests.factories import item, submit, token

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def negative(subject, ref, status, since, overdue, **fields):
    return item(
        subject,
        ref,
        status=status,
        delinquent_since=since,
        notice_sent_on=since,
        overdue_amount=overdue,
        outstanding_amount="9000",
        **fields,
    )


async def ask(http, member, subjects, at, clock, purpose="loan_application"):
    clock.set(at)
    body = {"subjects": subjects, "purpose": purpose}
    if purpose == "loan_application":
        body["consent_ref"] = "C-1"
    r = await http.post("/v1/exposure", json=body, headers=member.headers)
    assert r.status_code == 200, r.text


@pytest.fixture
async def world(http, registry, clock):
    p, q, r_ = await registry.member(), await registry.member(), await registry.member()
    s, t, u, v, w = (token() for _ in range(5))
    clock.set(NOW)
    result = await submit(
        http,
        p,
        item(s, "P-1", as_of="2026-11-20"),
        negative(s, "P-2", "dpd_61_90", "2026-09-01", "3000", product="auto_loan"),
        negative(
            s,
            "P-3",
            "dpd_31_60",
            "2026-09-15",
            "1000",
            product="auto_loan",
            collection_stage="reminder",
            last_collection_action_on="2026-10-20",
        ),
        negative(s, "P-4", "dpd_1_30", "2026-11-10", "500.25", as_of="2026-11-15"),
        item(s, "P-5", product="mortgage"),
        item(s, "P-6", product="mortgage", opened_on="2010-01-01", closed_on="2020-01-01", as_of="2020-01-01"),
        negative(s, "P-7", "written_off", "2026-10-01", "7000", product="credit_card"),
    )
    ids = {x["account_ref"]: x["record_id"] for x in result.json()["results"]}
    assert (await http.delete(f"/v1/records/{ids['P-5']}", headers=p.headers)).status_code == 200
    # P-7 suppressed by an upheld dispute; P-2 under an open one.
    d1 = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": s, "record_id": ids["P-7"], "reason": "not_mine", "statement": "Not my card"},
    )
    assert (
        await http.patch(
            f"/admin/disputes/{d1.json()['id']}",
            headers=registry.admin.headers,
            json={"resolution": "upheld", "note": "identity theft confirmed"},
        )
    ).status_code == 200
    d2 = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": s, "record_id": ids["P-2"], "reason": "wrong_amount", "statement": "Too high"},
    )
    assert d2.status_code == 201
    # Inquiries: P asks about t, u, v (hard) and s (soft, its own borrower) this month, w 40 days ago;
    # Q asks about t and u, R about t: t is stacked (3 institutions), u is not.
    await ask(http, p, [t, u, v], NOW - timedelta(days=1), clock)
    await ask(http, p, [s], NOW - timedelta(days=2), clock, purpose="account_review")
    await ask(http, p, [w], NOW - timedelta(days=40), clock)
    await ask(http, q, [t, u], NOW - timedelta(days=3), clock)
    await ask(http, r_, [t], NOW - timedelta(days=29), clock)
    clock.set(NOW)
    return {"p": p, "q": q, "r": r_}


P_FIGURES = {
    "records": {
        "live": 4,
        "by_product": {"auto_loan": 2, "consumer_loan": 2},
        "by_status": {"current": 1, "dpd_1_30": 1, "dpd_31_60": 1, "dpd_61_90": 1},
        "delinquent": 3,
        "delinquency_rate": 0.75,
        "uncollected": 1,
        "uncollected_rate": 0.3333,
        "overdue_delinquent": {"CNY": "4500.25"},
        "overdue_uncollected": {"CNY": "3000.00"},
        "newest_as_of": "2026-11-20",
        "reporting_age_days": 8,
    },
    "disputes": {"received": 2, "open": 1, "overdue": 0, "resolved": 1, "upheld": 1, "upheld_share": 1.0},
    "inquiries": {
        "window_days": 30,
        "by_purpose": {"account_review": 1, "loan_application": 3},
        "per_day": {"account_review": 0.03, "loan_application": 0.1},
        "stacked_subjects": 1,
    },
}


async def test_member_figures_equal_the_hand_computed_ones(http, registry, world):
    r = await http.get("/admin/stats", headers=registry.admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    members = {m["code"]: m for m in body["members"]}
    p = members[world["p"].code]
    assert {k: p[k] for k in ("records", "disputes", "inquiries")} == P_FIGURES
    assert (p["member_id"], p["kind"]) == (str(world["p"].id), "bank")
    q = members[world["q"].code]
    assert (
        q["records"]["live"] == 0 and q["records"]["delinquency_rate"] is None and q["records"]["newest_as_of"] is None
    )
    assert q["inquiries"]["by_purpose"] == {"loan_application": 2} and q["inquiries"]["stacked_subjects"] == 1
    assert members[world["r"].code]["inquiries"]["stacked_subjects"] == 1
    assert q["disputes"] == {"received": 0, "open": 0, "overdue": 0, "resolved": 0, "upheld": 0, "upheld_share": None}


async def test_industry_figures_are_consistent_with_the_members(http, registry, world):
    body = (await http.get("/admin/stats", headers=registry.admin.headers)).json()
    industry, members = body["industry"], body["members"]
    for name in ("live", "delinquent", "uncollected"):
        assert industry["records"][name] == sum(m["records"][name] for m in members)
    for name in ("by_product", "by_status"):
        totals: dict[str, int] = {}
        for m in members:
            for key, n in m["records"][name].items():
                totals[key] = totals.get(key, 0) + n
        assert industry["records"][name] == dict(sorted(totals.items()))
    purposes: dict[str, int] = {}
    for m in members:
        for key, n in m["inquiries"]["by_purpose"].items():
            purposes[key] = purposes.get(key, 0) + n
    assert industry["inquiries"]["by_purpose"] == dict(sorted(purposes.items()))
    rec = industry["records"]
    assert rec["delinquency_rate"] == round(rec["delinquent"] / rec["live"], 4)
    assert rec["uncollected_rate"] == round(rec["uncollected"] / rec["delinquent"], 4)
    newest = max(m["records"]["newest_as_of"] for m in members if m["records"]["newest_as_of"])
    assert rec["newest_as_of"] == newest
    # Disputes and stacked subjects are counted once for the industry, however many members they concern.
    assert industry["disputes"]["received"] >= max(m["disputes"]["received"] for m in members)
    assert 1 <= industry["inquiries"]["stacked_subjects"] <= sum(m["inquiries"]["stacked_subjects"] for m in members)


async def test_one_member_with_a_12_month_series(http, registry, world):
    r = await http.get(f"/admin/stats/members/{world['p'].id}", headers=registry.admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body["member"][k] for k in ("records", "disputes", "inquiries")} == P_FIGURES
    months = body["monthly"]
    assert [m["month"] for m in months] == ["2025-12"] + [f"2026-{n:02d}" for n in range(1, 12)]
    by_month = {m["month"]: m for m in months}
    assert by_month["2026-11"] == {
        "month": "2026-11",
        "inquiries": {"account_review": 1, "loan_application": 3},
        "new_delinquencies": 1,
        "disputes_received": 2,
    }
    assert by_month["2026-10"] == {
        "month": "2026-10",
        "inquiries": {"loan_application": 1},
        "new_delinquencies": 0,
        "disputes_received": 0,
    }
    assert by_month["2026-09"]["new_delinquencies"] == 2
    assert sum(m["new_delinquencies"] for m in months) == 3
    rows = await registry.audit_rows(action="admin.stats.read", resource=f"member:{world['p'].id}")
    assert [row["outcome"] for row in rows] == [200]


async def test_admin_only_and_unknown_member(http, registry, world):
    assert (await http.get("/admin/stats", headers=world["p"].headers)).status_code == 403
    r = await http.get("/admin/stats/members/00000000-0000-0000-0000-000000000000", headers=registry.admin.headers)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await http.get("/admin/stats/members/nope", headers=registry.admin.headers)).status_code == 422


# The figures of every (member, product, status, currency) counted from the records themselves,
# by the rule written out here again (docs/api.md): delinquent more than 30 days on its as_of,
# no arrangement, no collection action in the 30 days up to as_of; and the vehicle accounts
# that pledge no vehicle, read from the pledges themselves.
UNCOLLECTED = """severity >= 3 AND delinquent_since < as_of - 30 AND arrangement = 'none'
           AND (last_collection_action_on IS NULL OR last_collection_action_on < as_of - 30)"""
FROM_SCRATCH = f"""
SELECT member_id, product, status, currency, count(*) AS n,
       count(*) FILTER (WHERE {UNCOLLECTED}) AS uncollected,
       sum(overdue_minor)::bigint AS overdue,
       coalesce(sum(overdue_minor) FILTER (WHERE {UNCOLLECTED}), 0)::bigint AS uncollected_overdue,
       count(*) FILTER (WHERE product IN ('auto_loan', 'financial_lease')
                        AND NOT EXISTS (SELECT 1 FROM record_collateral c WHERE c.record_id = r.id)) AS without_vehicle
FROM records r
WHERE withdrawn_at IS NULL AND NOT suppressed AND (expires_on IS NULL OR expires_on > $1)
GROUP BY 1, 2, 3, 4
"""


async def _both(pool, today):
    async with pool.acquire() as conn:
        scratch = {tuple(r) for r in await conn.fetch(FROM_SCRATCH, today)}
        ledger = {tuple(r) for r in await repository.record_groups(conn, today, None)}
    return scratch, ledger


async def test_the_ledger_equals_a_count_of_the_records_on_any_day(app, registry, world):
    # Later days move records past expiry (whether a record is uncollected depends on itself alone).
    days = (NOW.date(), date(2026, 12, 20), date(2031, 1, 1), date(2040, 1, 1))
    expired = await registry.pool.fetchval("SELECT count(*) FROM records WHERE expires_on <= $1", days[-1])
    assert expired > 0  # the fixtures of the suite leave negative records that expire
    for today in days:
        scratch, ledger = await _both(registry.pool, today)
        assert ledger == scratch, today
    await service.fold(app.state.runtime.db)
    assert (
        await registry.pool.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM record_tallies GROUP BY member_id, product, status, currency "
            "HAVING count(*) > 1) k"
        )
        == 0
    )
    for today in days:
        scratch, ledger = await _both(registry.pool, today)
        assert ledger == scratch, today


async def test_figures_follow_the_day_and_a_write_a_moment_ago(http, registry, world, clock):
    p = world["p"]
    later = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    clock.set(later)
    figures = (await http.get(f"/admin/stats/members/{p.id}", headers=registry.admin.headers)).json()["member"]
    # Uncollected is judged on each record's own as_of: a later day changes nothing by itself.
    assert {k: figures["records"][k] for k in ("uncollected", "overdue_uncollected", "reporting_age_days")} == {
        "uncollected": 1,
        "overdue_uncollected": {"CNY": "3000.00"},
        "reporting_age_days": 30,
    }
    s = token()
    await submit(
        http, p, negative(s, "P-4", "dpd_1_30", "2026-11-10", "500.25", as_of="2026-11-15", collection_stage="reminder")
    )
    assert (await submit(http, p, item(s, "P-8", status="settled", as_of="2026-12-19"))).status_code == 200
    figures = (await http.get("/admin/stats", headers=registry.admin.headers)).json()
    records = next(m for m in figures["members"] if m["code"] == p.code)["records"]
    assert {k: records[k] for k in ("live", "by_status", "uncollected", "overdue_uncollected", "newest_as_of")} == {
        "live": 5,
        "by_status": {"current": 1, "dpd_1_30": 1, "dpd_31_60": 1, "dpd_61_90": 1, "settled": 1},
        "uncollected": 1,
        "overdue_uncollected": {"CNY": "3000.00"},
        "newest_as_of": "2026-12-19",
    }


async def test_a_member_neither_reads_nor_writes_anothers_tallies(app_conn, prover, world):
    p, q = world["p"], world["q"]
    conn = app_conn
    for member, visible in ((q, 0), (p, 1)):
        async with conn.transaction():
            await prover.enter(conn, Member(member.id), "test")
            n = await conn.fetchval("SELECT count(*) FROM record_tallies WHERE member_id = $1", p.id)
            assert min(n, 1) == visible
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await prover.enter(conn, Member(q.id), "test")
            await conn.execute(
                "INSERT INTO record_tallies (member_id, product, status, currency, live, overdue_minor, candidates, "
                "candidate_overdue_minor) VALUES ($1, 'other', 'current', 'CNY', 1000, 0, 0, 0)",
                p.id,
            )
    # The service's role appends only: changing or removing a tally is the fold's, as the owner.
    for statement in ("UPDATE record_tallies SET live = 0", "DELETE FROM record_tallies"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await prover.enter(conn, Member(p.id), "test")
                await conn.execute(statement)
