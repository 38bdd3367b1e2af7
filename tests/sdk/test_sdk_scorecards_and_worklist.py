"""The SDK's and the CLI's scorecard, worklist, league table, thresholds and association
feed against a real server process, and the member feed's dispute and double-pledge alerts
parsed into typed fields. A lender reports four delinquent accounts over two branches, one
of them chased within 30 days (so three are uncollected), and a current one."""

from __future__ import annotations

import csv
import io
import json
import os
import time

import pytest

from registry_client import APIResponse, AsyncRegistryClient, PermissionDenied, RegistryClient
from registry_client.types import (
    Alert,
    AssociationAlert,
    AssociationAlertFeed,
    LeagueTable,
    Record,
    Scorecard,
    Thresholds,
)
from tests.collateral.support import pledged, vehicle
from tests.factories import item, token
from tests.sdk.support import admin_client, cli, own_live_server

SCOPES = ["records:write", "records:read", "disputes", "monitor"]


@pytest.fixture(scope="module")
def live_server(server_url, tmp_path_factory):
    """A server on a database of its own: thresholds and the league are the association's
    whole, and other tests' members would stand in both."""
    with own_live_server(server_url, tmp_path_factory) as server:
        yield server


def new_member(live_server) -> dict:
    with admin_client(live_server) as admin:
        member = admin.admin.members.create(code="SC" + token()[:8].upper(), name="Lender", kind="bank")
        issued = admin.admin.clients.create(member.id, name="sdk", scopes=SCOPES)
    client = RegistryClient(live_server["url"], issued.client_id, issued.client_secret, live_server["hashing_key"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(
        REGISTRY_URL=live_server["url"],
        REGISTRY_CLIENT_ID=issued.client_id,
        REGISTRY_CLIENT_SECRET=issued.client_secret,
        REGISTRY_HASHING_KEY=live_server["hashing_key"],
    )
    return {"member": member, "client": client, "env": env, "id": issued.client_id, "secret": issued.client_secret}


def admin_env(live_server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(
        REGISTRY_URL=live_server["url"],
        REGISTRY_CLIENT_ID=live_server["client_id"],
        REGISTRY_CLIENT_SECRET=live_server["client_secret"],
    )
    return env


def late(account_ref: str, branch: str, since: str, status: str = "dpd_91_180", **fields) -> dict:
    return item(token(), account_ref, status=status, delinquent_since=since, branch_code=branch, **fields)


@pytest.fixture(scope="module")
def lenders(live_server):
    lender, other = new_member(live_server), new_member(live_server)
    done = lender["client"].records.submit(
        [
            late("W-91", "SH-01", "2026-08-01", overdue_amount="500.00"),
            late("W-41", "SH-01", "2026-09-20", status="dpd_31_60"),
            late("W-60", "BJ-02", "2026-08-31", status="dpd_61_90"),
            late("CHASED", "SH-01", "2026-08-01", last_collection_action_on="2026-10-25"),
            item(token(), "CURRENT", branch_code="SH-01"),
        ]
    )
    assert done.summary.created == 5, done
    # The other lender's uncollected account must never show in the first one's worklist.
    assert other["client"].records.submit([late("OTHER-1", "SH-01", "2026-07-15")]).summary.created == 1
    yield {"lender": lender, "other": other}
    lender["client"].close()
    other["client"].close()


def refs(records) -> list[str]:
    return [r.account_ref for r in records]


def test_the_worklist_per_branch_in_order_of_days_past_due(lenders):
    client = lenders["lender"]["client"]
    branch = list(client.records.list(uncollected=True, branch_code="SH-01"))
    assert refs(branch) == ["W-91", "W-41"]  # most days past due first; CHASED was chased
    assert all(isinstance(r, Record) and r.uncollected and r.branch_code == "SH-01" for r in branch)
    assert [r.days_past_due for r in branch] == [91, 41]
    assert branch[0].last_collection_action_on is None and branch[0].arrangement == "none"
    assert refs(client.records.list(uncollected=True)) == ["W-91", "W-60", "W-41"]
    assert refs(client.records.list(uncollected=True, min_days=60)) == ["W-91", "W-60"]
    chased = next(r for r in client.records.list(branch_code="SH-01") if r.account_ref == "CHASED")
    assert not chased.uncollected and chased.last_collection_action_on.isoformat() == "2026-10-25"

    rows = list(csv.DictReader(io.StringIO(client.records.list_csv(uncollected=True, branch_code="SH-01"))))
    assert [row["account_ref"] for row in rows] == ["W-91", "W-41"]
    assert rows[0]["days_past_due"] == "91" and rows[0]["overdue_amount"] == "500.00"

    raw = client.with_raw_response.records.list_csv(uncollected=True, branch_code="BJ-02")
    assert isinstance(raw, APIResponse) and raw.status == 200
    assert raw.headers["content-type"].startswith("text/csv") and "W-60" in raw.parsed
    page = client.with_raw_response.records.list(uncollected=True, branch_code="SH-01", page_size=1)
    assert page.status == 200 and refs(page.parsed.data) == ["W-91"] and page.parsed.next_cursor

    # The other lender's worklist holds its own account only.
    other = lenders["other"]["client"]
    assert refs(other.records.list(uncollected=True, branch_code="SH-01")) == ["OTHER-1"]
    assert "W-91" not in other.records.list_csv(uncollected=True)


def test_the_scorecard_and_its_branches(lenders):
    client = lenders["lender"]["client"]
    card = client.scorecard.get(months=3)
    assert isinstance(card, Scorecard) and len(card.series) == 3
    assert card.member.live_accounts == 5
    assert card.member.delinquency_rate == pytest.approx(4 / 5, abs=1e-4)
    assert card.member.uncollected_rate == pytest.approx(3 / 4, abs=1e-4)
    branches = {b.branch_code: b for b in card.branches}
    assert set(branches) == {"SH-01", "BJ-02"}
    assert branches["SH-01"].live_accounts == 4 and branches["SH-01"].uncollected_rate == pytest.approx(2 / 3, abs=1e-4)
    assert len(client.scorecard.get().series) == 12  # the registry's default

    rows = {row["branch_code"]: row for row in csv.DictReader(io.StringIO(client.scorecard.branches_csv()))}
    assert set(rows) == {"SH-01", "BJ-02"} and rows["BJ-02"]["live_accounts"] == "1"

    raw = client.with_raw_response.scorecard.get(months=2)
    assert raw.status == 200 and isinstance(raw.parsed, Scorecard) and len(raw.parsed.series) == 2
    raw_csv = client.with_raw_response.scorecard.branches_csv()
    assert raw_csv.headers["content-type"].startswith("text/csv") and "SH-01" in raw_csv.parsed


def feed_until(read, wanted, seconds: float = 60):
    """Read a feed until `wanted(alerts)` holds: the feed shows an alert once every older
    transaction on the (shared) database server has ended."""
    deadline = time.monotonic() + seconds
    while True:
        alerts = list(read())
        if wanted(alerts) or time.monotonic() > deadline:
            return alerts
        time.sleep(0.2)


def test_the_league_thresholds_and_the_association_feed(live_server, lenders):
    code = lenders["lender"]["member"].code
    with admin_client(live_server) as admin:
        table = admin.admin.stats.league(sort="uncollected_rate")
        assert isinstance(table, LeagueTable) and table.sort == "uncollected_rate"
        entry = next(m for m in table.members if m.code == code)
        assert entry.uncollected_rate == pytest.approx(0.75) and entry.branches == 2
        assert [m.rank for m in table.members] == list(range(1, len(table.members) + 1))
        by_recovery = admin.admin.stats.league("recovery_rate")
        assert by_recovery.sort == "recovery_rate"
        rows = list(csv.DictReader(io.StringIO(admin.admin.stats.league_csv())))
        assert code in [row["code"] for row in rows]

        limits = admin.admin.thresholds.set(uncollected_rate=0.5, reporting_age_days=400)
        assert isinstance(limits, Thresholds) and limits.uncollected_rate == 0.5
        got = admin.admin.thresholds.get()
        assert (got.uncollected_rate, got.reporting_age_days, got.delinquency_rate) == (0.5, 400, None)

        # The new limit is checked at once: the lender, at 0.75, crosses it (the other at 1.0 too).
        alerts = feed_until(
            lambda: admin.admin.alerts.iter(),
            lambda got: any(a.details.get("member", {}).get("code") == code for a in got),
        )
        crossed = next(a for a in alerts if a.details["member"]["code"] == code)
        assert isinstance(crossed, AssociationAlert) and crossed.kind == "member.threshold_crossed"
        assert crossed.details["figure"] == "uncollected_rate" and crossed.details["limit"] == 0.5
        stream = admin.admin.alerts.iter()
        assert [a.id for a in stream] == [a.id for a in alerts]
        assert list(admin.admin.alerts.iter(after=stream.cursor)) == []  # each alert once

        raw = admin.with_raw_response.admin.alerts.iter()
        assert raw.status == 200 and isinstance(raw.parsed, AssociationAlertFeed)
        assert crossed.id in [a.id for a in raw.parsed.data]
        raw_limits = admin.with_raw_response.admin.thresholds.set(uncollected_rate=0.5, reporting_age_days=400)
        assert raw_limits.status == 200 and raw_limits.parsed.uncollected_rate == 0.5
        assert admin.with_raw_response.admin.thresholds.get().parsed.reporting_age_days == 400
        raw_league = admin.with_raw_response.admin.stats.league("delinquency_rate")
        assert raw_league.status == 200 and raw_league.parsed.sort == "delinquency_rate"
        assert admin.with_raw_response.admin.stats.league_csv().headers["content-type"].startswith("text/csv")

    member = lenders["lender"]["client"]
    with pytest.raises(PermissionDenied):
        member.admin.stats.league()
    with pytest.raises(PermissionDenied):
        member.admin.thresholds.set(uncollected_rate=0.1)
    with pytest.raises(PermissionDenied):
        list(member.admin.alerts.iter())


def test_dispute_and_double_pledge_alerts_parse_into_typed_fields(live_server):
    lender, other = new_member(live_server), new_member(live_server)
    subject, car = token(), vehicle()
    with lender["client"] as mine, other["client"] as theirs:
        mine.records.submit([item(subject, "DISPUTED", status="dpd_31_60"), pledged(token(), "CAR-1", car)])
        theirs.records.submit([pledged(token(), "CAR-2", car), item(subject, "THEIRS", status="dpd_31_60")])
        filed = theirs.disputes.file(subject, reason="already_settled", statement="Repaid in August.")

        alerts = feed_until(
            lambda: mine.alerts.iter(),
            lambda got: {"dispute.opened", "collateral.double_pledge"} <= {a.kind for a in got},
        )
        assert all(isinstance(a, Alert) for a in alerts)
        opened = next(a for a in alerts if a.kind == "dispute.opened")
        assert opened.dispute_id == filed.id and opened.reason == "already_settled"
        assert opened.deadline == filed.deadline and opened.subject is None
        assert [r.account_ref for r in opened.records] == ["DISPUTED"]
        pledge = next(a for a in alerts if a.kind == "collateral.double_pledge")
        assert pledge.account_ref == "CAR-1" and pledge.record_id

        out = cli(lender["env"], "alerts")
        assert out.returncode == 0, out.stderr
        assert f"dispute {filed.id}" in out.stdout and "account CAR-1" in out.stdout


def test_the_command_line_scorecard_worklist_and_remote_admin(live_server, lenders, tmp_path):
    env = lenders["lender"]["env"]
    table = cli(env, "scorecard")
    assert table.returncode == 0, table.stderr
    assert "uncollected_rate" in table.stdout and "75.0%" in table.stdout and "BJ-02" in table.stdout
    card = json.loads(cli(env, "scorecard", "--json", "--months", "2").stdout)
    assert card["member"]["live_accounts"] == 5 and len(card["series"]) == 2
    branches = cli(env, "scorecard", "--csv").stdout
    assert branches.splitlines()[0].startswith("branch_code") and len(branches.splitlines()) == 3

    shown = cli(env, "worklist", "--branch", "SH-01")
    assert shown.returncode == 0, shown.stderr
    assert "W-91" in shown.stdout and "W-41" in shown.stdout and "CHASED" not in shown.stdout
    lines = [json.loads(line) for line in cli(env, "worklist", "--min-days", "60", "--json").stdout.splitlines()]
    assert [r["account_ref"] for r in lines] == ["W-91", "W-60"]
    target = tmp_path / "sh-01.csv"
    wrote = cli(env, "worklist", "--branch", "SH-01", "--csv", str(target))
    assert wrote.returncode == 0 and "2 accounts written" in wrote.stderr
    assert [row["account_ref"] for row in csv.DictReader(target.open())] == ["W-91", "W-41"]

    admin = admin_env(live_server)
    code = lenders["lender"]["member"].code
    league = cli(admin, "admin", "league", "--sort", "recovery_rate")
    assert league.returncode == 0 and code in league.stdout
    assert json.loads(cli(admin, "admin", "league", "--json").stdout)["sort"] == "uncollected_rate"
    league_csv = list(csv.DictReader(io.StringIO(cli(admin, "admin", "league", "--csv").stdout)))
    assert code in [row["code"] for row in league_csv]
    limits = json.loads(cli(admin, "admin", "thresholds", "set", "--uncollected-rate", "0.4").stdout)
    assert limits["uncollected_rate"] == 0.4 and limits["reporting_age_days"] is None
    assert json.loads(cli(admin, "admin", "thresholds", "get").stdout)["uncollected_rate"] == 0.4
    refused = cli(admin, "admin", "thresholds", "set", "--uncollected-rate", "3")
    assert refused.returncode != 0
    feed = cli(admin, "admin", "alerts")
    assert feed.returncode == 0 and "member.threshold_crossed" in feed.stdout and "cursor: " in feed.stderr
    cursor = feed.stderr.split("cursor: ")[1].strip()
    assert cli(admin, "admin", "alerts", "--after", cursor).stdout.strip() == ""
    denied = cli(env, "admin", "league")
    assert denied.returncode == 1 and "Traceback" not in denied.stderr


async def test_the_async_client_has_the_same_calls(live_server, lenders):
    lender = lenders["lender"]
    async with AsyncRegistryClient(live_server["url"], lender["id"], lender["secret"]) as client:
        card = await client.scorecard.get(months=1)
        assert card.member.live_accounts == 5 and len(card.series) == 1
        assert "SH-01" in await client.scorecard.branches_csv()
        assert [r.account_ref async for r in client.records.list(uncollected=True, branch_code="SH-01")] == [
            "W-91",
            "W-41",
        ]
        assert "W-60" in await client.records.list_csv(uncollected=True, min_days=60)
        raw = await client.with_raw_response.scorecard.get()
        assert raw.status == 200 and isinstance(raw.parsed, Scorecard)
    async with AsyncRegistryClient(live_server["url"], live_server["client_id"], live_server["client_secret"]) as a:
        assert lender["member"].code in [m.code for m in (await a.admin.stats.league()).members]
        assert "code" in (await a.admin.stats.league_csv()).splitlines()[0]
        assert isinstance(await a.admin.thresholds.get(), Thresholds)
        assert [x.kind async for x in a.admin.alerts.iter()]  # the crossings raised above
