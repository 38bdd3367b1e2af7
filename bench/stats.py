"""Statistics benchmark: `GET /admin/stats` and one member's detail timed on generated data
(1M records by default) in a fresh database. The queries are the service's own
(registry/stats), run through its service functions on a pool the size of the service's
system pool, as a request would. The generated records are tallied by the ledger's triggers
as they are inserted; the ledger is folded before timing, as the service does every minute.
The inquiry rollups are then brought up to date as the service's job does: first the
one-off catch-up to the day before (every day the retention window holds), then one day's
step (the pairs moved to the new window and one day rolled up), each timed.

    python -m bench.stats --records 1000000 --inquiries 3000000 --members 200
    python -m bench.stats --reuse-database NAME   # time a database generated before (--keep)

BENCH_DATABASE_URL names a PostgreSQL server (else the local one, else an embedded one).
Prints the median and worst of `--repeat` runs of each call after one warm-up run."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.cpu import CpuSample, postmaster_of
from bench.database import choose_server, drop_database, migrate_database, recreate_database
from registry.core.db import Tx, init_connection
from registry.retention import service as retention_service
from registry.stats import repository as stats_repository
from registry.stats import rollup, service

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DATABASE = "registry_bench_stats"
SYSTEM_POOL_MAX_SIZE = 4  # Database.connect in registry/core/db.py

GENERATE = """
INSERT INTO members (code, name, kind)
SELECT 'SB' || lpad(i::text, 4, '0'), 'Bench lender ' || i,
       (ARRAY['bank','consumer_finance','auto_finance','leasing','microcredit'])[1 + i % 5]
FROM generate_series(1, $1) i;

CREATE TEMP TABLE bench_members AS SELECT array_agg(id ORDER BY code) AS ids FROM members WHERE code LIKE 'SB%';

-- Members' portfolios of uneven size (a few large lenders): member index skewed by a square.
INSERT INTO records (member_id, account_ref, subject_key, subject_type, product, status, collection_stage, currency,
                     principal_minor, outstanding_minor, overdue_minor, delinquent_since, notice_sent_on, as_of,
                     expires_on, content_hash)
SELECT m.ids[1 + floor(power(random(), 2) * cardinality(m.ids))::int],
       'ACC-' || g, sha256(int8send(g % ($2 / 2))), 'individual',
       (ARRAY['auto_loan','mortgage','consumer_loan','credit_card','enterprise_loan','project_finance',
              'financial_lease','other'])[1 + g % 8],
       s.status,
       CASE WHEN g % 4 = 0 THEN 'none' ELSE 'reminder' END, 'CNY',
       1000000, 800000, CASE WHEN s.status LIKE 'dpd%' OR s.status = 'written_off' THEN (g % 50) * 10000 ELSE 0 END,
       CASE WHEN s.status LIKE 'dpd%' OR s.status = 'written_off' THEN date '2026-01-01' + (g % 320) END,
       CASE WHEN s.status LIKE 'dpd%' OR s.status = 'written_off' THEN date '2026-01-01' + (g % 320) END,
       date '2026-11-27' - (g % 90),
       CASE WHEN g % 20 = 0 THEN date '2026-06-01' + (g % 365) END,
       sha256(int8send(g))
FROM generate_series(1, $2) g, bench_members m,
     LATERAL (SELECT (ARRAY['current','current','current','current','current','current','current','settled',
                            'dpd_1_30','dpd_31_60','dpd_61_90','dpd_over_180'])[1 + (g * 7) % 12] AS status) s;

-- Inquiries over 24 months, appended in time order as the service writes them (the log of
-- a live registry is physically chronological), a tenth of them in the last 30 days.
INSERT INTO inquiries (member_id, subject_key, purpose, hard, consent_ref, at)
SELECT m.ids[1 + g % cardinality(m.ids)], sha256(int8send(g % ($2 / 2))),
       p.purpose, p.purpose = 'loan_application', 'C-' || g, t.at
FROM generate_series(1, $3) g, bench_members m,
     LATERAL (SELECT (ARRAY['loan_application','loan_application','account_review','collection'])[1 + g % 4]
              AS purpose) p,
     LATERAL (SELECT CASE WHEN g % 10 = 0 THEN $4::timestamptz - (g % 720) * interval '1 hour'
                          ELSE $4::timestamptz - interval '30 days' - (g % 16000) * interval '1 hour' END AS at) t
ORDER BY t.at;
"""

DISPUTES = """
WITH picked AS (
    SELECT id, member_id, subject_key, row_number() OVER () AS n FROM records WHERE severity >= 3 LIMIT $1
), filed AS (
    INSERT INTO disputes (subject_key, filed_by, reason, statement, status, received_at, deadline, records_covered,
                          resolution, resolved_at)
    SELECT subject_key, member_id, 'other', 'bench', CASE WHEN n % 3 = 0 THEN 'open' ELSE 'resolved' END,
           $2::timestamptz - (n % 300) * interval '1 day',
           $2::timestamptz - (n % 300) * interval '1 day' + interval '20 days',
           1, CASE WHEN n % 3 = 0 THEN NULL WHEN n % 3 = 1 THEN 'upheld' ELSE 'rejected' END,
           CASE WHEN n % 3 = 0 THEN NULL ELSE $2::timestamptz END
    FROM picked RETURNING id, subject_key, received_at
)
INSERT INTO dispute_records (dispute_id, record_id, member_id)
SELECT f.id, p.id, p.member_id FROM filed f JOIN picked p USING (subject_key) ON CONFLICT DO NOTHING
"""


async def generate(url: str, members: int, records: int, inquiries: int, disputes: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        # asyncpg runs a multi-statement string only without parameters: inline the numbers.
        script = (
            GENERATE.replace("$1", str(members))
            .replace("$2", str(records))
            .replace("$3", str(inquiries))
            .replace("$4::timestamptz", f"'{NOW.isoformat()}'::timestamptz")
        )
        await conn.execute(script)
        await conn.execute(DISPUTES, disputes, NOW)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def purged(url: str) -> None:
    """Retention's daily pass at NOW, as the service runs it: a live registry holds at most a
    day's expired records, where the generated one holds every record that has expired since
    its `expires_on` (a quarter of a million at 10M), and the statistics subtract those."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            result = await retention_service.run(Tx(conn), now=NOW)
        await conn.execute("VACUUM ANALYZE records")
    finally:
        await conn.close()
    print(
        f"retention at NOW: {result.records:,} expired records and {result.inquiries:,} inquiries purged "
        f"in {time.perf_counter() - started:.1f} s"
    )


def cores_line(cores: dict[str, float]) -> str:
    """The cores used while timing, "other" being the rest of the machine (the noise)."""
    return "cores while timing: " + "  ".join(f"{name} {value:.2f}" for name, value in cores.items())


async def rolled_up(pool: asyncpg.Pool) -> None:
    """The rollup job's catch-up to the day before NOW, then its step for NOW's day, timed."""
    for name, moment in (("catch-up", NOW - timedelta(days=1)), ("one day", NOW)):
        started = time.perf_counter()
        days = await rollup.roll_up(pool, moment)  # the service's job, on the service's own login
        print(f"rollup {name}: {days} days in {time.perf_counter() - started:.2f} s")
    counts = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM inquiry_days) AS days, (SELECT count(*) FROM stacking_pairs) AS pairs, "
        "(SELECT count(*) FROM stacking_subjects WHERE members >= 3) AS stacked"
    )
    print(f"rollups: {counts['days']:,} day rows, {counts['pairs']:,} pairs, {counts['stacked']:,} stacked subjects")


async def timed(url: str, database: str, repeat: int) -> dict[str, list[float]]:
    # The size of the service's system pool (registry/core/db.py): the aggregates run at once on it.
    pool = await asyncpg.create_pool(url, min_size=1, max_size=SYSTEM_POOL_MAX_SIZE, init=init_connection)
    try:
        async with pool.acquire() as conn, conn.transaction():
            folded = await stats_repository.fold_tallies(conn)
        tallies = await pool.fetchval("SELECT count(*) FROM record_tallies")
        print(f"ledger: {tallies:,} rows after folding {folded:,}")
        await rolled_up(pool)
        largest = await pool.fetchval("SELECT member_id FROM records GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        calls = {
            "GET /admin/stats": lambda: service.industry_stats(pool, NOW),
            "GET /admin/stats/members/{largest}": lambda: service.member_stats(pool, largest, NOW),
        }
        postmaster = postmaster_of(await pool.fetchval("SELECT pg_backend_pid()"))
        before = CpuSample.take(database, postmaster=postmaster)
        results: dict[str, list[float]] = {}
        for name, call in calls.items():
            times = []
            for _ in range(repeat + 1):
                started = time.perf_counter()
                await call()
                times.append(time.perf_counter() - started)
            results[name] = times[1:]  # the first run warms the cache
        print(cores_line(CpuSample.take(database, postmaster=postmaster).cores_since(before)))
        return results
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--inquiries", type=int, default=3_000_000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--disputes", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database afterwards")
    parser.add_argument(
        "--database-name",
        default=DATABASE,
        help=f"The scratch database the bench drops and creates again (default {DATABASE}: a database kept "
        "under that name by an earlier --keep run is lost)",
    )
    parser.add_argument(
        "--reuse-database",
        metavar="NAME",
        help="Time this database, generated before by the bench (migrated first; kept afterwards)",
    )
    args = parser.parse_args()

    server = choose_server(Path(tempfile.mkdtemp(prefix="registry-bench-stats-")))
    database = args.reuse_database or args.database_name
    try:
        if args.reuse_database:
            url = server.database_url(database)
            migrate_database(url)
            print(f"server: {server.origin}; reusing {database}")
        else:
            url = asyncio.run(recreate_database(server, database))
            migrate_database(url)
            seconds = asyncio.run(generate(url, args.members, args.records, args.inquiries, args.disputes))
            print(
                f"server: {server.origin}; generated {args.records:,} records, {args.inquiries:,} inquiries, "
                f"{args.members} members, {args.disputes:,} disputes in {seconds:.1f} s"
            )
        asyncio.run(purged(url))
        for name, times in asyncio.run(timed(url, database, args.repeat)).items():
            print(f"{name:40s} median {statistics.median(times) * 1000:7.1f} ms   worst {max(times) * 1000:7.1f} ms")
        if not args.keep and not args.reuse_database:
            asyncio.run(drop_database(server, database))
    finally:
        server.close()


if __name__ == "__main__":
    main()
