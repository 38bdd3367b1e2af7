"""Scorecards benchmark: `GET /v1/scorecard` (the largest member's) and `GET /admin/stats/league`
timed on generated data (1M records over 50 members and 500 branches by default) in a fresh
database. The queries are the service's own (registry/scorecards), run through its service
functions on a pool the size of the service's system pool, as a request would. The records
are tallied by the branch ledger's triggers as they are inserted; the ledger is folded
before timing, as the service does every minute; a second pass times them unfolded, after
a day's worth of small batches have each appended their ledger rows.

    python -m bench.scorecards --records 1000000 --members 50 --branches 500

BENCH_DATABASE_URL names a PostgreSQL server (else the local one, else an embedded one).
Prints the median and worst of `--repeat` runs of each call after one warm-up run."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.cpu import CpuSample, postmaster_of
from bench.database import choose_server, drop_database, migrate_database, recreate_database
from bench.stats import DISPUTES, cores_line
from registry.core.db import init_connection
from registry.scorecards import repository, service
from registry.scorecards.schemas import LeagueSort

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DATABASE = "registry_bench_scorecards"
SYSTEM_POOL_MAX_SIZE = 4  # Database.connect in registry/core/db.py

GENERATE = """
INSERT INTO members (code, name, kind) VALUES ('ASSOC', 'Association', 'association');
INSERT INTO members (code, name, kind)
SELECT 'SC' || lpad(i::text, 4, '0'), 'Bench lender ' || i,
       (ARRAY['bank','consumer_finance','auto_finance','leasing','microcredit'])[1 + i % 5]
FROM generate_series(1, $1) i;

CREATE TEMP TABLE bench_members AS SELECT array_agg(id ORDER BY code) AS ids FROM members WHERE code LIKE 'SC%';

-- Portfolios of uneven size (a few large lenders), each member's accounts over its own
-- branches ($4 in all), one in twenty without a branch; a third of the delinquent accounts
-- acted on lately, one in twelve under an arrangement, a third with something recovered.
-- One in twenty expires within the year, a day's worth already: what the daily retention
-- pass leaves (expired records not yet purged are subtracted at read time, one by one).
INSERT INTO records (member_id, account_ref, subject_key, subject_type, product, status, collection_stage, currency,
                     principal_minor, outstanding_minor, overdue_minor, delinquent_since, notice_sent_on, as_of,
                     expires_on, content_hash, branch_code, last_collection_action_on, recovered_minor, arrangement)
SELECT m.ids[x.member], 'ACC-' || g, sha256(int8send(g % ($2 / 2))), 'individual',
       (ARRAY['auto_loan','mortgage','consumer_loan','credit_card','enterprise_loan','project_finance',
              'financial_lease','other'])[1 + g % 8],
       s.status, CASE WHEN g % 4 = 0 THEN 'none' ELSE 'reminder' END, 'CNY',
       1000000, 800000, CASE WHEN s.bad THEN (g % 50) * 10000 ELSE 0 END,
       CASE WHEN s.bad THEN date '2026-01-01' + (g % 320) END,
       CASE WHEN s.bad THEN date '2026-01-01' + (g % 320) END,
       date '2026-11-27' - (g % 90),
       CASE WHEN g % 20 = 0 THEN date '2026-11-27' + (g % 365) END,
       sha256(int8send(g)),
       CASE WHEN g % 20 = 0 THEN NULL
            ELSE 'M' || x.member || '-B' || (g % greatest(1, $4 / cardinality(m.ids))) END,
       CASE WHEN s.bad AND g % 3 = 0 THEN date '2026-11-27' - (g % 90) - (g % 20) END,
       CASE WHEN s.bad AND g % 3 = 1 THEN (g % 40) * 5000 ELSE 0 END,
       CASE WHEN s.bad AND g % 12 = 5 THEN 'payment_plan' ELSE 'none' END
FROM generate_series(1, $2) g, bench_members m,
     LATERAL (SELECT 1 + floor(power(random() + 0 * g, 2) * cardinality(m.ids))::int AS member) x,
     LATERAL (SELECT (ARRAY['current','current','current','current','current','current','current','settled',
                            'dpd_1_30','dpd_31_60','dpd_61_90','dpd_over_180'])[1 + (g * 7) % 12] AS status) s0,
     LATERAL (SELECT s0.status, s0.status LIKE 'dpd%' AS bad) s;
"""

# Small reports between folds: each statement changes a delinquent account's recovered
# amount, so each appends its own ledger rows (a change that moves no figure appends none).
SMALL_BATCH = "UPDATE records SET recovered_minor = recovered_minor + 100, as_of = as_of + 1 WHERE id = $1"
DELINQUENT_IDS = "SELECT id FROM records WHERE severity >= 3 AND withdrawn_at IS NULL LIMIT $1"


async def generate(url: str, members: int, records: int, branches: int, disputes: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        script = GENERATE.replace("$1", str(members)).replace("$2", str(records)).replace("$4", str(branches))
        await conn.execute(script)
        await conn.execute(DISPUTES, disputes, NOW)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def _time(calls: dict, repeat: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for name, call in calls.items():
        times = []
        for _ in range(repeat + 1):
            started = time.perf_counter()
            await call()
            times.append(time.perf_counter() - started)
        results[name] = times[1:]  # the first run warms the cache
    return results


async def timed(url: str, repeat: int, unfolded_batches: int) -> dict[str, list[float]]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=SYSTEM_POOL_MAX_SIZE, init=init_connection)
    try:
        async with pool.acquire() as conn, conn.transaction():
            folded = await repository.fold(conn)
        ledger = await pool.fetchval("SELECT count(*) FROM branch_tallies")
        branches = await pool.fetchval("SELECT count(DISTINCT (member_id, branch_code)) FROM branch_tallies")
        print(f"ledger: {ledger:,} rows over {branches:,} branches after folding {folded:,}")
        largest = await pool.fetchval("SELECT member_id FROM records GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        calls = {
            "GET /v1/scorecard (largest member)": lambda: service.member_scorecard(pool, largest, NOW, 12),
            **{
                f"GET /admin/stats/league?sort={sort.value}": (lambda s=sort: service.league_table(pool, NOW, s))
                for sort in LeagueSort
            },
        }
        postmaster = postmaster_of(await pool.fetchval("SELECT pg_backend_pid()"))
        before = CpuSample.take(DATABASE, postmaster=postmaster)
        results = await _time(calls, repeat)
        _report(results)
        print(cores_line(CpuSample.take(DATABASE, postmaster=postmaster).cores_since(before)))
        for record_id in [r["id"] for r in await pool.fetch(DELINQUENT_IDS, unfolded_batches)]:
            await pool.execute(SMALL_BATCH, record_id)
        ledger = await pool.fetchval("SELECT count(*) FROM branch_tallies")
        print(f"ledger: {ledger:,} rows after {unfolded_batches:,} unfolded single-record writes")
        before = CpuSample.take(DATABASE, postmaster=postmaster)
        unfolded = await _time(
            {
                "GET /v1/scorecard (unfolded ledger)": calls["GET /v1/scorecard (largest member)"],
                "GET /admin/stats/league (unfolded ledger)": calls["GET /admin/stats/league?sort=uncollected_rate"],
            },
            repeat,
        )
        _report(unfolded)
        print(cores_line(CpuSample.take(DATABASE, postmaster=postmaster).cores_since(before)))
        return {**results, **unfolded}
    finally:
        await pool.close()


def _report(results: dict[str, list[float]]) -> None:
    for name, times in results.items():
        print(f"{name:48s} median {statistics.median(times) * 1000:7.1f} ms   worst {max(times) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--branches", type=int, default=500)
    parser.add_argument("--disputes", type=int, default=5_000)
    parser.add_argument("--unfolded", type=int, default=2_000, help="Single-record writes before the unfolded pass")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="Time the database a --keep run left, as it is")
    args = parser.parse_args()

    server = choose_server(Path(tempfile.mkdtemp(prefix="registry-bench-scorecards-")))
    try:
        if args.reuse:
            url = server.database_url(DATABASE)
            print(f"server: {server.origin}; reusing {DATABASE}")
        else:
            url = asyncio.run(recreate_database(server, DATABASE))
            migrate_database(url)
            seconds = asyncio.run(generate(url, args.members, args.records, args.branches, args.disputes))
            print(
                f"server: {server.origin}; generated {args.records:,} records over {args.members} members and "
                f"{args.branches} branches, {args.disputes:,} disputes in {seconds:.1f} s"
            )
        asyncio.run(timed(url, args.repeat, args.unfolded))
        if not args.keep:
            asyncio.run(drop_database(server, DATABASE))
    finally:
        server.close()


if __name__ == "__main__":
    main()
