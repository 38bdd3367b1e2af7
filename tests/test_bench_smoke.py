"""The exposure benchmark cannot rot silently: its data set, generated small into the test
database, holds exactly what the service stores for the same reports, and the statement
the raw baseline runs answers sensibly on it."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from bench import database, raw
from bench.database import BenchClient
from bench.dataset import EVENT_COLUMNS, INQUIRY_COLUMNS, RECORD_COLUMNS, Dataset, DatasetSpec
from bench.dataset import Member as BenchMember
from bench.measure import query_pool
from registry.core.subjects import subject_key
from registry.core.tenancy import Member, Tenancy
from registry.exposure import repository as exposure_repository
from registry.records.vocabulary import DELINQUENT_SEVERITY, SEVERITY
from tests.factories import submit

REFERENCE = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def generated(registry, app, seed: int, members: int = 3) -> tuple[Dataset, list]:
    lenders = [await registry.member() for _ in range(members)]
    spec = DatasetSpec(records=240, subjects=100, members=members, seed=seed, reference_date=REFERENCE,
                       inquiries_per_subject=2.0)
    dataset = Dataset(spec, app.state.runtime.keys.server_key, [BenchMember(m.id, m.code) for m in lenders])
    return dataset, lenders


def rows_of(dataset: Dataset) -> tuple[list[dict], list[dict], list[dict]]:
    records, events = [], []
    for portfolio_records, portfolio_events in dataset.portfolios():
        records += [dict(zip(RECORD_COLUMNS, r, strict=True)) for r in portfolio_records]
        events += [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in portfolio_events]
    inquiries = [dict(zip(INQUIRY_COLUMNS, i, strict=True)) for i in dataset.inquiries()]
    return records, events, inquiries


async def test_generated_rows_are_what_the_service_stores(http, registry, app, pool, clock):
    """Replaying every generated history through POST /v1/records gives the same rows."""
    dataset, _ = await generated(registry, app, seed=11)
    records, events, _ = rows_of(dataset)
    assert len(records) == 240 and len({r["subject_key"] for r in records}) == 100
    statuses = {r["status"] for r in records}
    assert "current" in statuses and any(SEVERITY[s] >= DELINQUENT_SEVERITY for s in statuses)
    history = defaultdict(list)
    for event in events:
        history[event["record_id"]].append(event)
    assert all(len(history[r["id"]]) == r["version"] for r in records)  # one event per accepted change
    assert any(max(e["severity"] for e in history[r["id"]]) > SEVERITY[r["status"]] for r in records)

    token_of = dict(zip(dataset.keys, dataset.tokens, strict=True))
    replayed = [r for r in records if r["withdrawn_at"] is None]
    replayer = await registry.member()
    clock.set(NOW)
    for version in range(1, max(r["version"] for r in replayed) + 1):
        items = [
            {**json.loads(history[r["id"]][version - 1]["snapshot"]), "subject": token_of[r["subject_key"]]}
            for r in replayed if r["version"] >= version
        ]
        response = await submit(http, replayer, *items)
        assert response.status_code == 200, response.text
        summary = response.json()["summary"]
        assert summary["created"] + summary["updated"] == len(items), response.text

    stored = {
        row["account_ref"]: dict(row)
        for row in await pool.fetch("SELECT * FROM records WHERE member_id = $1", replayer.id)
    }
    compared = ("subject_key", "status", "collection_stage", "currency", "principal_minor", "outstanding_minor",
                "overdue_minor", "opened_on", "delinquent_since", "notice_sent_on", "closed_on", "as_of",
                "ever_delinquent", "delinquency_ended_on", "expires_on", "content_hash", "version")
    for record in replayed:
        service_row = stored[record["account_ref"]]
        assert {c: service_row[c] for c in compared} == {c: record[c] for c in compared}, record["account_ref"]


async def test_the_exposure_statement_answers_on_the_generated_data(registry, app, database_url, pool):
    dataset, lenders = await generated(registry, app, seed=12)
    report = await database.load(database_url, dataset, fresh=False, progress=lambda _: None)
    assert report.records == 240 and report.events >= 240 and report.inquiries >= 200
    records, events, inquiries = rows_of(dataset)
    server_key = app.state.runtime.keys.server_key

    caller = lenders[0]
    keys = [*dataset.keys[:40], subject_key(server_key, dataset.unknown_tokens(1)[0])]
    prover = app.state.runtime.prover
    tenancy = Tenancy(prover, Member(caller.id), caller.client.client_id)
    rows = await exposure_repository.query(
        pool, tenancy, subject_keys=keys, purpose="loan_application", consent_ref="SMOKE",
        hard=True, requires_own_record=False, now=NOW,
        audit=(caller.id, caller.client.client_id, "bench-smoke", {"purpose": "loan_application", "subjects": len(keys)}),
        quota_per_minute=1_000_000,
    )
    assert len(rows) == len(keys) and rows[0].allowed
    live = [r for r in records if r["withdrawn_at"] is None and (r["expires_on"] is None or r["expires_on"] > REFERENCE)]
    window_24m = REFERENCE.replace(year=REFERENCE.year - 2)
    found = 0
    for key, row in zip(keys, rows, strict=True):
        others = [r for r in live if r["subject_key"] == key and r["member_id"] != caller.id]
        own = [r for r in live if r["subject_key"] == key and r["member_id"] == caller.id]
        assert (row.accounts_total or 0) == len(others)
        assert (row.institutions_reporting or 0) == len({r["member_id"] for r in others})
        assert row.worst == (max(SEVERITY[r["status"]] for r in others) if others else None)
        assert (row.own_accounts or 0) == len(own)
        ids = {r["id"] for r in others}
        past = [e["severity"] for e in events if e["record_id"] in ids and e["as_of"] >= window_24m]
        assert row.worst_24m == (max(past) if past else None)
        hard = [i for i in inquiries if i["subject_key"] == key and i["hard"] and i["member_id"] != caller.id
                and NOW - timedelta(days=90) < i["at"] <= NOW]
        assert (row.last_90d or 0) == len(hard)
        found += bool(others)
    assert found > 20 and rows[-1].accounts_total is None  # the unknown borrower: nothing

    # The raw baseline's query, on the pool the benchmark would use.
    client = BenchClient(BenchMember(caller.id, caller.code), caller.client.client_id, "")
    pool_keys = [subject_key(server_key, t) for t in query_pool(dataset.tokens, dataset.unknown_tokens(10), 60, seed=12)]
    query = raw.querier(pool, prover, client, pool_keys, batch_size=20, start=0)
    assert [await query(0), await query(0), await query(0)] == [20, 20, 20]
