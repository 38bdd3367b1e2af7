"""The exposure benchmark cannot rot silently:

- its data set, generated small, holds exactly what the service stores when the same
  history is replayed through the API: every record column, every event, every inquiry
  (including withdrawals, disputes, and soft inquiries that need a live record);
- every side of the benchmark makes the service's own call: the asyncpg baseline's rows
  give the HTTP answer for the same subjects, and pgbench's calls write the same inquiries
  and audit rows as the service's for the same query numbers.

No ratio is timed here: the benchmark measures, these tests check what it measures."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import asyncpg
import pytest

from bench import database, pgbench, raw
from bench.database import BenchClient
from bench.dataset import (
    COLLATERAL_COLUMNS,
    EVENT_COLUMNS,
    INQUIRY_COLUMNS,
    PARTY_COLUMNS,
    RECORD_COLUMNS,
    Dataset,
    DatasetSpec,
)
from bench.dataset import Member as BenchMember
from bench.measure import QueryPlan
from registry.core.db import init_connection, with_user
from registry.core.subjects import subject_key
from registry.core.tenancy import Member as TenancyMember
from registry.exposure.service import _subject_answer
from registry.records.vocabulary import DELINQUENT_SEVERITY, SEVERITY
from tests.factories import submit

REFERENCE = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
# Columns the service stamps with the database's clock: compared by the rules they follow.
STAMPED = {"id", "created_at", "updated_at", "withdrawn_at"}


async def generated(registry, app, seed: int, **sizes) -> tuple[Dataset, list]:
    lenders = [await registry.member() for _ in range(3)]
    spec = DatasetSpec(members=3, seed=seed, reference_date=REFERENCE, **sizes)
    dataset = Dataset(spec, app.state.runtime.keys.server_key, [BenchMember(m.id, m.code) for m in lenders])
    return dataset, lenders


def rows_of(dataset: Dataset) -> tuple[list[dict], list[dict], list[dict]]:
    records, events, inquiries = [], [], []
    for chunk_records, chunk_events, chunk_inquiries, *_ in dataset.chunks():
        records += [dict(zip(RECORD_COLUMNS, r, strict=True)) for r in chunk_records]
        events += [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in chunk_events]
        inquiries += [dict(zip(INQUIRY_COLUMNS, i, strict=True)) for i in chunk_inquiries]
    return records, events, inquiries


def links_of(dataset: Dataset) -> tuple[list[dict], list[dict]]:
    parties, collateral = [], []
    for *_, chunk_parties, chunk_collateral in dataset.chunks():
        parties += [dict(zip(PARTY_COLUMNS, p, strict=True)) for p in chunk_parties]
        collateral += [dict(zip(COLLATERAL_COLUMNS, c, strict=True)) for c in chunk_collateral]
    return parties, collateral


def reported(snapshot: str, token_of: dict[bytes, str]) -> dict:
    """A generated snapshot as the item a member would send: parties and the car by token."""
    fields = json.loads(snapshot)
    if "parties" in fields:
        fields["parties"] = [
            {"subject": token_of[bytes.fromhex(p["subject_key"])], "subject_type": p["subject_type"], "role": p["role"]}
            for p in fields["parties"]
        ]
    if "collateral" in fields:
        fields["collateral"] = {
            "kind": "vehicle",
            "token": token_of[bytes.fromhex(fields["collateral"]["vehicle_key"])],
        }
    return fields


def histories(events, key_of) -> dict:
    """Events by record (keyed by member and account), in version order."""
    out = defaultdict(list)
    for event in events:
        out[key_of[event["record_id"]]].append(event)
    return {key: sorted(evs, key=lambda e: e["version"]) for key, evs in out.items()}


def uncollected(r) -> bool:
    """The rule of docs/api.md, written out again over a generated row."""
    window = timedelta(days=30)
    return (
        SEVERITY[r["status"]] >= DELINQUENT_SEVERITY
        and r["delinquent_since"] is not None
        and r["delinquent_since"] < r["as_of"] - window
        and r["arrangement"] == "none"
        and (r["last_collection_action_on"] is None or r["last_collection_action_on"] < r["as_of"] - window)
    )


def uuid7_millis(value: uuid.UUID) -> int:
    assert value.version == 7 and value.variant == uuid.RFC_4122, value
    return value.int >> 80


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def test_generated_rows_are_what_the_service_stores(http, registry, app, pool, clock):
    """Replay the generated history through the API (each member's reports version by version,
    disputes resolved `unverifiable`, then withdrawals and inquiries at their own times) and
    require the same records, events and inquiries."""
    dataset, lenders = await generated(
        registry,
        app,
        seed=11,
        records=150,
        subjects=60,
        inquiries_per_subject=1.5,
        hard_inquiry_share=0.3,
        withdrawn_share=0.2,
        disputed_share=0.08,
        guarantee_share=0.9,
        double_pledge_share=0.3,
    )
    records, events, inquiries = rows_of(dataset)
    parties, collateral = links_of(dataset)
    assert parties and collateral and len({c["vehicle_key"] for c in collateral}) < len(collateral)
    assert len(records) == 150 and len({r["subject_key"] for r in records}) == 60
    withdrawn = [r for r in records if r["withdrawn_at"] is not None]
    disputed = [r for r in records if r["disputed"]]
    assert withdrawn and disputed and {r["subject_type"] for r in records} == {"individual", "enterprise"}
    assert {i["purpose"] for i in inquiries} >= {"loan_application", "account_review"}
    statuses = {r["status"] for r in records}
    assert "current" in statuses and any(SEVERITY[s] >= DELINQUENT_SEVERITY for s in statuses)
    generated_key = {r["id"]: (r["member_id"], r["account_ref"]) for r in records}
    generated_history = histories(events, generated_key)
    assert all(len(generated_history[generated_key[r["id"]]]) == r["version"] for r in records)
    assert any(
        max(e["severity"] for e in generated_history[generated_key[r["id"]]]) > SEVERITY[r["status"]] for r in records
    )

    token_of = {dataset.key(s): dataset.token(s) for s in range(dataset.spec.subjects)}
    server_key = app.state.runtime.keys.server_key
    token_of |= {subject_key(server_key, t): t for t in dataset.vehicle_tokens(0, len(records))}
    lender_of = {lender.id: lender for lender in lenders}
    ids = [lender.id for lender in lenders]

    # 1. The reports, version by version, each member its own.
    clock.set(NOW)
    reports = {
        generated_key[r["id"]]: [e for e in generated_history[generated_key[r["id"]]] if e["kind"] != "withdrawn"]
        for r in records
    }
    for version in range(1, max(len(v) for v in reports.values()) + 1):
        for lender in lenders:
            items = [
                {
                    **reported(reports[(lender.id, r["account_ref"])][version - 1]["snapshot"], token_of),
                    "subject": token_of[r["subject_key"]],
                }
                for r in records
                if r["member_id"] == lender.id and len(reports[(lender.id, r["account_ref"])]) >= version
            ]
            if items:
                response = await submit(http, lender, *items)
                assert response.status_code == 200, response.text
                summary = response.json()["summary"]
                assert summary["created"] + summary["updated"] == len(items), response.text
    record_id = {
        (row["member_id"], row["account_ref"]): row["id"]
        for row in await pool.fetch("SELECT member_id, account_ref, id FROM records WHERE member_id = ANY($1)", ids)
    }

    # 2. A dispute on each disputed record, filed while it was live and resolved `unverifiable`.
    for r in disputed:
        lender = lender_of[r["member_id"]]
        clock.set(r["updated_at"])
        filed = await http.post(
            "/v1/disputes",
            headers=lender.headers,
            json={
                "subject": token_of[r["subject_key"]],
                "record_id": str(record_id[(lender.id, r["account_ref"])]),
                "reason": "already_settled",
                "statement": "I repaid this loan.",
            },
        )
        assert filed.status_code == 202, filed.text
        resolved = await http.patch(
            f"/admin/disputes/{filed.json()['id']}",
            headers=registry.admin.headers,
            json={"resolution": "unverifiable", "note": "Neither side could prove it."},
        )
        assert resolved.status_code == 200, resolved.text

    # 3. Withdrawals and inquiries, in the order they happened, at the times they happened.
    moments = [(r["withdrawn_at"], "withdraw", r) for r in withdrawn] + [(i["at"], "ask", i) for i in inquiries]
    for moment, kind, row in sorted(moments, key=lambda m: m[0]):
        clock.set(moment)
        lender = lender_of[row["member_id"]]
        if kind == "withdraw":
            response = await http.delete(
                f"/v1/records/{record_id[(lender.id, row['account_ref'])]}", headers=lender.headers
            )
        else:
            body = {"subjects": [token_of[row["subject_key"]]], "purpose": row["purpose"]}
            if row["consent_ref"] is not None:
                body["consent_ref"] = row["consent_ref"]
            response = await http.post("/v1/exposure", json=body, headers=lender.headers)
        assert response.status_code == 200, (kind, row, response.text)

    # Records: every column the service keeps.
    stored = {
        (row["member_id"], row["account_ref"]): dict(row)
        for row in await pool.fetch("SELECT * FROM records WHERE member_id = ANY($1)", ids)
    }
    assert set(stored) == set(generated_key.values())
    derived_by_table = {"severity", "uncollected", "suppressed", "dispute_deadline"}
    upload_only = {"line_digest"}  # the digest of the upload line that wrote it: none through the API, none generated
    # A new column fails here.
    assert set(next(iter(stored.values()))) == set(RECORD_COLUMNS) | derived_by_table | upload_only
    assert all(row["line_digest"] is None for row in stored.values())
    exact = [c for c in RECORD_COLUMNS if c not in STAMPED]
    service_key = {row["id"]: key for key, row in stored.items()}
    service_history = histories(
        [dict(e) for e in await pool.fetch("SELECT * FROM record_events WHERE member_id = ANY($1)", ids)], service_key
    )
    for r in records:
        key = generated_key[r["id"]]
        mine = stored[key]
        assert {c: mine[c] for c in exact} == {c: r[c] for c in exact}, key
        assert (mine["severity"], mine["suppressed"], mine["dispute_deadline"]) == (SEVERITY[r["status"]], False, None)
        assert mine["uncollected"] == uncollected(r), key
        # Clock-stamped columns follow the same rules on both sides: created with the first
        # event, updated with the last, withdrawn at the withdrawal; ids are UUIDv7 of creation.
        for row, history in ((r, generated_history[key]), (mine, service_history[key])):
            assert (row["withdrawn_at"] is None) == (r["withdrawn_at"] is None), key
            assert history[0]["at"] == row["created_at"] and history[-1]["at"] == row["updated_at"], key
            assert all(a["at"] < b["at"] for a, b in pairwise(history)), key
            if row["withdrawn_at"] is not None:
                assert row["withdrawn_at"] == row["updated_at"] and history[-1]["kind"] == "withdrawn", key
        assert uuid7_millis(r["id"]) == millis(r["created_at"])
        assert 0 <= uuid7_millis(mine["id"]) - millis(mine["created_at"]) < 60_000

    # Events: the same history for every record.
    assert set(next(iter(service_history.values()))[0]) == set(EVENT_COLUMNS) | {"id"}
    compared = [c for c in EVENT_COLUMNS if c not in ("record_id", "at")]

    def comparable(history):
        return [
            {c: (json.loads(e[c]) if c == "snapshot" and isinstance(e[c], str) else e[c]) for c in compared}
            for e in history
        ]

    assert set(service_history) == set(generated_history)
    for key, history in generated_history.items():
        assert comparable(service_history[key]) == comparable(history), key

    # Parties and vehicles: the same links.
    by_id = {r["id"]: generated_key[r["id"]] for r in records}
    service_parties = await pool.fetch(
        "SELECT r.member_id, r.account_ref, p.subject_key, p.subject_type, p.role FROM record_parties p "
        "JOIN records r ON r.id = p.record_id WHERE r.member_id = ANY($1)",
        ids,
    )
    assert Counter(tuple(row) for row in service_parties) == Counter(
        (*by_id[p["record_id"]], p["subject_key"], p["subject_type"], p["role"]) for p in parties
    )
    service_cars = await pool.fetch(
        "SELECT r.member_id, r.account_ref, c.vehicle_key FROM record_collateral c "
        "JOIN records r ON r.id = c.record_id WHERE r.member_id = ANY($1)",
        ids,
    )
    assert Counter(tuple(row) for row in service_cars) == Counter(
        (*by_id[c["record_id"]], c["vehicle_key"]) for c in collateral
    )

    # Inquiries: the same rows, at the same moments.
    asked = await pool.fetch(f"SELECT {', '.join(INQUIRY_COLUMNS)} FROM inquiries WHERE member_id = ANY($1)", ids)
    assert Counter(tuple(row) for row in asked) == Counter(tuple(i[c] for c in INQUIRY_COLUMNS) for i in inquiries)


async def test_every_side_makes_the_call_the_service_makes(http, registry, app, database_url, pool, clock):
    """On the loaded data set: the asyncpg baseline's rows are the service's HTTP answer for
    the same subjects (and what the generated rows say), and pgbench's calls for the same
    query numbers write the inquiries and audit rows the service writes."""
    dataset, lenders = await generated(registry, app, seed=12, records=240, subjects=100, inquiries_per_subject=2.0)
    report = await database.load(database_url, dataset, fresh=False, progress=lambda _: None)
    records, events, inquiries = rows_of(dataset)
    assert (report.records, report.events, report.inquiries) == (len(records), len(events), len(inquiries))
    ids = [lender.id for lender in lenders]
    loaded = await pool.fetch("SELECT at FROM inquiries WHERE member_id = ANY($1) ORDER BY id", ids)
    assert len(loaded) == len(inquiries) and [r["at"] for r in loaded] == sorted(i["at"] for i in inquiries)

    runtime = app.state.runtime
    role, quota = runtime.settings.database_role, runtime.settings.default_exposure_per_minute
    server_key = runtime.keys.server_key
    clients = [BenchClient(BenchMember(lender.id, lender.code), lender.client.client_id, "") for lender in lenders]
    tokens = dataset.query_pool(60)
    keys = [subject_key(server_key, token) for token in tokens]
    assert len(set(tokens)) == 60 and sum(k not in {r["subject_key"] for r in records} for k in keys) == 6
    plan = QueryPlan(len(tokens), 5, len(clients))
    numbers = range(4)
    live = [
        r for r in records if r["withdrawn_at"] is None and (r["expires_on"] is None or r["expires_on"] > REFERENCE)
    ]
    window_24m = REFERENCE.replace(year=REFERENCE.year - 2)
    clock.set(NOW)

    async def inquiries_after(last_id: int) -> Counter:
        rows = await pool.fetch(
            "SELECT member_id, subject_key, purpose, hard, consent_ref FROM inquiries "
            "WHERE id > $1 AND member_id = ANY($2)",
            last_id,
            ids,
        )
        return Counter(tuple(row) for row in rows)

    async def last_inquiry() -> int:
        return await pool.fetchval("SELECT coalesce(max(id), 0) FROM inquiries")

    app_pool = await asyncpg.create_pool(with_user(database_url, role), min_size=1, max_size=2, init=init_connection)
    prover = runtime.prover
    try:
        before_raw = await last_inquiry()
        answers = {}
        for k in numbers:
            start, end = plan.bounds(k)
            client = clients[plan.member(k)]
            rows = await raw.call(
                app_pool, prover, client, keys[start:end], quota_per_minute=quota, now=NOW, request_id=f"raw-{k}"
            )
            assert len(rows) == end - start and rows[0].allowed
            answers[k] = [_subject_answer(token, row) for token, row in zip(tokens[start:end], rows, strict=True)]
            for key, row in zip(keys[start:end], rows, strict=True):  # what the generated rows say
                others = [r for r in live if r["subject_key"] == key and r["member_id"] != client.member.id]
                own = [r for r in live if r["subject_key"] == key and r["member_id"] == client.member.id]
                assert (row.accounts_total or 0) == len(others)
                assert (row.institutions_reporting or 0) == len({r["member_id"] for r in others})
                assert row.worst == (max(SEVERITY[r["status"]] for r in others) if others else None)
                assert bool(row.disputed) == any(r["disputed"] for r in others)
                assert (row.own_accounts or 0) == len(own)
                held = {r["id"] for r in others}
                past = [e["severity"] for e in events if e["record_id"] in held and e["as_of"] >= window_24m]
                assert row.worst_24m == (max(past) if past else None)
                hard = [
                    i
                    for i in inquiries
                    if i["subject_key"] == key
                    and i["hard"]
                    and i["member_id"] != client.member.id
                    and NOW - timedelta(days=90) < i["at"] <= NOW
                ]
                assert (row.last_90d or 0) == len(hard)
        assert sum(a["found"] for k in numbers for a in answers[k]) >= 12
        raw_inquiries = await inquiries_after(before_raw)

        # The service's answer for the same query numbers is the baseline's, field by field.
        before_http = await last_inquiry()
        for k in numbers:
            start, end = plan.bounds(k)
            lender = lenders[plan.member(k)]
            response = await http.post(
                "/v1/exposure",
                headers=lender.headers,
                json={"subjects": tokens[start:end], "purpose": raw.PURPOSE.value, "consent_ref": raw.CONSENT_REF},
            )
            assert response.status_code == 200, response.text
            assert response.json()["results"] == answers[k], k
        http_inquiries = await inquiries_after(before_http)
        assert http_inquiries == raw_inquiries and sum(http_inquiries.values()) == 20

        # pgbench: two clients, two transactions each, are query numbers 0-3.
        await pgbench.install(database_url, keys, clients, role)
        try:
            tag = "smoke-pgbench"
            script = runtime.settings.data_dir / "smoke-pgbench.sql"
            script.write_text(pgbench.script(plan, quota_per_minute=quota, tag=tag))
            argv, env = pgbench.command(
                pgbench.find(), database_url, script, connections=2, role=role, limit=["--transactions=2"]
            )
            before_pgbench = await last_inquiry()
            done = await asyncio.to_thread(
                subprocess.run, argv, env=env, capture_output=True, text=True, timeout=60, check=False
            )
            assert done.returncode == 0 and "number of failed transactions: 0" in done.stdout, done.stderr
            assert await inquiries_after(before_pgbench) == http_inquiries
        finally:
            await pgbench.uninstall(database_url)
    finally:
        await app_pool.close()

    audits = await pool.fetch(
        "SELECT request_id, member_id, client_id, resource, outcome, details FROM audit_log "
        "WHERE action = 'exposure.query' AND member_id = ANY($1) ORDER BY id",
        ids,
    )

    def side(prefix: str | None) -> list[tuple]:
        chosen = (
            [a for a in audits if (a["request_id"] or "").startswith(prefix)]
            if prefix
            else [a for a in audits if not (a["request_id"] or "").startswith(("raw-", tag))]
        )
        return sorted(
            (a["member_id"], a["client_id"], a["resource"], a["outcome"], json.dumps(a["details"], sort_keys=True))
            for a in chosen
        )

    assert side(None) == side("raw-") == side(f"{tag}-") and len(side(None)) == len(numbers)


async def test_the_baseline_reads_no_settings_per_query(registry, app, database_url, monkeypatch):
    """The service reads its settings once; so must the asyncpg baseline (building `Settings()`
    per query once cost it several times its own CPU per query and inflated the ratios)."""
    from registry.config import Settings

    lender = await registry.member()
    client = BenchClient(BenchMember(lender.id, lender.code), lender.client.client_id, "")
    keys = [subject_key(app.state.runtime.keys.server_key, f"{n:064x}") for n in range(3)]
    built = []
    original = Settings.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Settings, "__init__", counting)
    Settings(_env_file=None)  # the counter counts
    assert built == [1]
    built.clear()
    role = app.state.runtime.settings.database_role
    pool = await asyncpg.create_pool(with_user(database_url, role), min_size=1, max_size=1, init=init_connection)
    try:
        query = raw.querier(
            pool,
            app.state.runtime.prover,
            [client],
            keys,
            QueryPlan(len(keys), 1, 1),
            quota_per_minute=60_000,
            clock=lambda: NOW,
        )
        assert [await query(k) for k in range(3)] == [1, 1, 1]
    finally:
        await pool.close()
    assert built == []


def test_no_verdict_from_a_failed_or_client_bound_side():
    """A ratio is printed only when neither side failed a query nor was bound by its client."""
    from bench.exposure import verdict
    from bench.measure import Measurement

    def window(name, queries, client, errors=0):
        return Measurement(
            name,
            1,
            64,
            10.0,
            queries=queries,
            subjects=queries,
            errors=errors,
            first_error="boom" if errors else None,
            cores={"client": client, "service": 0.5, "postgres": 1.0, "other": 0.1},
        )

    service = [window("service", 4000, 0.05), window("service", 6000, 0.05)]
    fair = verdict(
        "single",
        "pgbench",
        service,
        [window("pgbench", 9000, 0.05), window("pgbench", 11000, 0.05)],
        cores=2,
        max_share=0.15,
    )
    assert fair.ratio == 0.5 and fair.by_round == (4000 / 9000, 6000 / 11000) and not fair.reasons
    bound = verdict(
        "single",
        "asyncpg",
        service,
        [window("asyncpg", 9000, 0.2), window("asyncpg", 11000, 0.5)],
        cores=2,
        max_share=0.15,
    )
    assert bound.ratio is None and "client-bound" in bound.reasons[0] and "NO VERDICT" in bound.line("single")
    failed = verdict(
        "single",
        "pgbench",
        [service[0], window("service", 6000, 0.05, errors=1)],
        [window("pgbench", 9000, 0.05), window("pgbench", 11000, 0.05)],
        cores=2,
        max_share=0.15,
    )
    assert failed.ratio is None and "failed 1 queries" in failed.reasons[0]
    empty = verdict("batch", "pgbench", service, [window("pgbench", 0, 0.01)] * 2, cores=2, max_share=0.15)
    assert empty.ratio is None and "no query completed" in empty.reasons[0]


async def test_vehicle_checks_and_statement_versions_make_the_services_calls(
    http, registry, app, database_url, pool, clock
):
    """The vehicle phase: its pool holds cars of the data set, and pgbench's vehicle checks for
    the same query numbers write the service's audit rows. The contingent phase: the bench's
    v4 function is the deployed `registry_exposure`, and v3 and v4 answer the same calls."""
    dataset, lenders = await generated(registry, app, seed=13, records=240, subjects=100, double_pledge_share=0.3)
    await database.load(database_url, dataset, fresh=False, progress=lambda _: None)
    _, collateral = links_of(dataset)
    runtime = app.state.runtime
    role, quota = runtime.settings.database_role, runtime.settings.default_exposure_per_minute
    server_key = runtime.keys.server_key
    clients = [BenchClient(BenchMember(lender.id, lender.code), lender.client.client_id, "") for lender in lenders]
    vehicles = dataset.vehicle_pool(40)
    vehicle_keys = [subject_key(server_key, token) for token in vehicles]
    pledged = {c["vehicle_key"] for c in collateral}
    known = sum(key in pledged for key in vehicle_keys)
    assert len(set(vehicles)) == len(vehicles) and 0 < len(vehicles) - known <= len(vehicles) // 9 + 1
    assert await database.pledged(database_url, vehicle_keys) == known
    subjects = dataset.query_pool(20)
    subject_keys = [subject_key(server_key, token) for token in subjects]
    plan = QueryPlan(len(vehicles), 1, len(clients))
    numbers = range(4)
    clock.set(NOW)

    found = 0
    for k in numbers:
        start, end = plan.bounds(k)
        response = await http.post(
            "/v1/collateral/exposure",
            headers=lenders[plan.member(k)].headers,
            json={"vehicles": vehicles[start:end], "purpose": raw.PURPOSE.value, "consent_ref": raw.CONSENT_REF},
        )
        assert response.status_code == 200, response.text
        found += sum(r["found"] for r in response.json()["results"])

    def run_pgbench(call: pgbench.Call, tag: str, script_plan: QueryPlan) -> None:
        script = runtime.settings.data_dir / f"{tag}.sql"
        script.write_text(pgbench.script(script_plan, quota_per_minute=quota, tag=tag, call=call))
        argv, env = pgbench.command(
            pgbench.find(), database_url, script, connections=2, role=role, limit=["--transactions=2"]
        )
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0 and "number of failed transactions: 0" in done.stdout, done.stderr

    await pgbench.install(database_url, subject_keys, clients, role, vehicle_keys=vehicle_keys, versions=True)
    try:
        await asyncio.to_thread(run_pgbench, pgbench.VEHICLE_CHECK, "smoke-vehicle", plan)
        subject_plan = QueryPlan(len(subjects), 1, len(clients))
        for version, call in pgbench.VERSIONS.items():
            await asyncio.to_thread(run_pgbench, call, f"smoke-{version}", subject_plan)
        sources = dict(
            await pool.fetch(
                "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p "
                "WHERE p.proname IN ('registry_exposure', 'registry_exposure_v3', 'registry_exposure_v4')"
            )
        )
        deployed = next(src for name, src in sources.items() if name.startswith("registry_exposure("))
        assert next(src for name, src in sources.items() if "registry_exposure_v4" in name) == deployed
        assert next(src for name, src in sources.items() if "registry_exposure_v3" in name) != deployed
        # Same calls, same answers where v3 has the column: v4 adds the contingent figures only.
        app_pool = await asyncpg.create_pool(
            with_user(database_url, role), min_size=1, max_size=1, init=init_connection
        )
        try:
            async with app_pool.acquire() as conn:
                member_id, _, client_id, expires, proof = runtime.prover.prove(
                    TenancyMember(clients[0].member.id), clients[0].client_id
                )
                answers = {}
                for version, call in pgbench.VERSIONS.items():
                    answers[version] = await conn.fetch(
                        f"SELECT * FROM {call.function}($1, $2, 'loan_application', 'c', true, $3, $4, false, $5, "
                        f"'smoke-{version}-direct', '{{}}'::jsonb, 60000, $6, $7)",
                        member_id,
                        subject_keys,
                        NOW,
                        NOW.date(),
                        client_id,
                        expires,
                        proof,
                    )
        finally:
            await app_pool.close()
        v3, v4 = ([dict(r) for r in answers[v]] for v in ("v3", "v4"))
        assert len(v3) == len(v4) == len(subject_keys)
        skip = {"quota_used"}  # the second call counted the first's subjects
        assert [{k: r[k] for k in r if k not in skip} for r in v3] == [
            {k: r[k] for k in r if k in v3[0] and k not in skip} for r in v4
        ]
        assert set(v4[0]) - set(v3[0]) >= {"contingent_accounts", "contingent_amounts"}
    finally:
        await pgbench.uninstall(database_url)

    audits = await pool.fetch(
        "SELECT request_id, member_id, client_id, resource, outcome, details FROM audit_log "
        "WHERE action = 'collateral.exposure.query' AND member_id = ANY($1) ORDER BY id",
        [lender.id for lender in lenders],
    )

    def side(pgbench_side: bool) -> list[tuple]:
        return sorted(
            (a["member_id"], a["client_id"], a["resource"], a["outcome"], json.dumps(a["details"], sort_keys=True))
            for a in audits
            if (a["request_id"] or "").startswith("smoke-vehicle-") == pgbench_side
        )

    assert side(True) == side(False) and len(side(True)) == len(numbers) and found > 0
    version_audits = await pool.fetch(
        "SELECT request_id, outcome FROM audit_log WHERE action = 'exposure.query' AND request_id LIKE 'smoke-v_-%'"
    )
    # Four pgbench calls and one direct call of each version, all answered.
    assert (
        sorted(a["request_id"].split("-")[1] for a in version_audits if a["outcome"] == 200) == ["v3"] * 5 + ["v4"] * 5
    )


BENCH_MODULES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "bench").glob("*.py"))


@pytest.mark.parametrize("module", [m for m in BENCH_MODULES if m != "__init__"])
def test_every_bench_module_imports(module):
    # A bench nobody ran since a rename fails here rather than on the day its figures are due.
    importlib.import_module(f"bench.{module}")
