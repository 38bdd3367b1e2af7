"""The worklist (`GET /v1/records?uncollected=true`): the member's own uncollected accounts,
most days past due first, by branch and age, cursor-paged, and as CSV for a collection team."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from tests.factories import item, submit, token

AS_OF = date(2026, 10, 31)


def account(ref: str, days: int, branch: str | None, **fields):
    since = AS_OF - timedelta(days=days)
    return item(
        token(),
        ref,
        status="dpd_91_180" if days > 90 else "dpd_31_60",
        overdue_amount="700",
        delinquent_since=since.isoformat(),
        notice_sent_on=since.isoformat(),
        opened_on="2020-01-10",
        as_of=AS_OF.isoformat(),
        branch_code=branch,
        **fields,
    )


@pytest.fixture
async def lender(http, registry):
    member = await registry.member()
    r = await submit(
        http,
        member,
        account("A-120", 120, "NORTH"),
        account("A-45", 45, "NORTH"),
        account("A-200", 200, "SOUTH"),
        account("A-31", 31, None),
        account("A-90", 90, "NORTH"),
        # Not uncollected: too young, under an arrangement, acted on lately, or current.
        account("X-30", 30, "NORTH"),
        account("X-PLAN", 100, "NORTH", arrangement="payment_plan"),
        account("X-ACT", 100, "NORTH", last_collection_action_on=(AS_OF - timedelta(days=3)).isoformat()),
        item(token(), "X-CUR", branch_code="NORTH"),
    )
    assert r.json()["summary"]["created"] == 9, r.text
    return member


async def worklist(http, member, **params):
    r = await http.get("/v1/records", params={"uncollected": "true", **params}, headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_most_days_past_due_first(http, lender):
    body = await worklist(http, lender)
    assert [(r["account_ref"], r["days_past_due"]) for r in body["data"]] == [
        ("A-200", 200),
        ("A-120", 120),
        ("A-90", 90),
        ("A-45", 45),
        ("A-31", 31),
    ]
    assert all(r["uncollected"] for r in body["data"]) and body["next_cursor"] is None


async def test_by_branch_and_by_age(http, lender):
    north = await worklist(http, lender, branch_code="NORTH")
    assert [r["account_ref"] for r in north["data"]] == ["A-120", "A-90", "A-45"]
    old = await worklist(http, lender, branch_code="NORTH", min_days=90)
    assert [r["account_ref"] for r in old["data"]] == ["A-120", "A-90"]
    # The same branch filter on the plain listing: every held account of the branch.
    r = await http.get("/v1/records", params={"branch_code": "NORTH", "limit": 500}, headers=lender.headers)
    assert len(r.json()["data"]) == 7


async def test_pages_follow_the_order_without_gaps(http, lender):
    seen, cursor = [], None
    while True:
        body = await worklist(http, lender, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [r["account_ref"] for r in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["A-200", "A-120", "A-90", "A-45", "A-31"]


async def test_csv_for_the_collection_team_parses(http, lender):
    r = await http.get(
        "/v1/records",
        params={"uncollected": "true", "branch_code": "NORTH"},
        headers={**lender.headers, "Accept": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["account_ref"], row["days_past_due"], row["branch_code"]) for row in table] == [
        ("A-120", "120", "NORTH"),
        ("A-90", "90", "NORTH"),
        ("A-45", "45", "NORTH"),
    ]
    assert table[0]["overdue_amount"] == "700.00" and table[0]["uncollected"] == "true"


async def test_another_member_sees_none_of_it(http, registry, lender):
    other = await registry.member()
    assert (await worklist(http, other))["data"] == []
    r = await http.get("/v1/records", params={"uncollected": "true"}, headers={**other.headers, "Accept": "text/csv"})
    assert r.text.strip().count("\n") == 0  # the header row alone


@pytest.mark.parametrize(
    "params", [{"min_days": "-1"}, {"branch_code": "no spaces"}, {"uncollected": "maybe"}, {"cursor": "!!"}]
)
async def test_bad_filters_are_problems(http, lender, params):
    r = await http.get("/v1/records", params={"uncollected": "true", **params}, headers=lender.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_min_days_counts_only_accounts_still_past_due(http, lender):
    """A cured account keeps its delinquent_since but is past due no longer."""
    cured = item(token(), "CURED", branch_code="NORTH", delinquent_since="2026-01-01", notice_sent_on="2026-01-05")
    assert (await submit(http, lender, cured)).json()["summary"]["created"] == 1
    r = await http.get("/v1/records", params={"min_days": 100, "limit": 500}, headers=lender.headers)
    assert sorted(x["account_ref"] for x in r.json()["data"]) == ["A-120", "A-200", "X-ACT", "X-PLAN"]
    assert all(x["days_past_due"] >= 100 for x in r.json()["data"])
