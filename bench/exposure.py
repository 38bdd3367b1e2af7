"""The exposure benchmark, in one run (`python -m bench.exposure`, `make bench`):

1. a fresh database (BENCH_DATABASE_URL's server, else a local server on 127.0.0.1:5432,
   else an embedded PostgreSQL), migrated, loaded with the generated data set, analyzed;
2. the raw baseline: the exposure statement through plain asyncpg (bench/raw.py);
3. the real service over HTTP (`registry serve --workers 2`), driven by a load generator
   process (bench/loadgen.py);

for single-subject queries and for batches, then prints subjects/s, p50/p99 latency, where
the cores went, and the ratio service/raw against the goals. docs/performance.md explains."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import asyncpg

from bench import database, raw, service
from bench.dataset import Dataset, DatasetSpec
from bench.measure import Measurement, query_pool, run_loop
from registry.core.subjects import subject_key

GOALS = {"single": 0.5, "batch": 0.7}  # service/raw subjects per second
QUICK = {"records": 20_000, "subjects": 10_000, "members": 10, "duration": 5.0, "warmup": 2.0}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.exposure", description=__doc__.split("\n\n")[0])
    data = parser.add_argument_group("data set")
    data.add_argument("--records", type=int, default=1_000_000, help="records to load (default 1,000,000)")
    data.add_argument("--subjects", type=int, default=500_000, help="borrowers they concern (default 500,000)")
    data.add_argument("--members", type=int, default=50, help="reporting members (default 50)")
    data.add_argument("--seed", type=int, default=20261128, help="the data set and query order follow from it")
    data.add_argument("--reference-date", type=date.fromisoformat, default=None,
                      help="the data set's 'today' (default: today, so the 24-month and 90-day windows apply)")
    run = parser.add_argument_group("run")
    run.add_argument("--duration", type=float, default=20.0, help="measured seconds per phase (default 20)")
    run.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before each window (default 5)")
    run.add_argument("--concurrency", type=int, default=64, help="concurrent queries (default 64)")
    run.add_argument("--batch-size", type=int, default=1000, help="subjects per batch query (default 1000)")
    run.add_argument("--workers", type=int, default=2, help="service worker processes (default 2)")
    run.add_argument("--raw-pool-size", type=int, default=None,
                     help="connections of the raw baseline's pool (default: the service's total, workers x 10)")
    run.add_argument("--phases", default="single,batch", help="which of single,batch to run (default both)")
    run.add_argument("--log-level", default="INFO", help="the service's log level (default INFO, as deployed)")
    run.add_argument("--quick", action="store_true",
                     help="smoke run: 20k records, 10k subjects, 10 members, 5-second phases")
    db = parser.add_argument_group("database")
    db.add_argument("--database-name", default="registry_bench", help="database to (re)create (default registry_bench)")
    db.add_argument("--keep-database", action="store_true", help="keep the database after the run")
    db.add_argument("--reuse-database", action="store_true",
                    help="reuse the database when it holds this very data set (implies --keep-database)")
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, help="also write the results to this JSON file")
    out.add_argument("--profile", type=Path,
                     help="record py-spy flame graphs of the service workers into this directory (needs py-spy)")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if parser.get_default(name) == getattr(args, name):
                setattr(args, name, value)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if set(args.phases) - {"single", "batch"}:
        parser.error("--phases takes single and/or batch")
    return args


def say(message: str = "") -> None:
    print(message, flush=True)


def bench_server_key(seed: int) -> bytes:
    """The bench's K_server: fixed by the seed, so a reused database still matches."""
    return hashlib.sha256(f"registry-bench-server-key:{seed}".encode()).digest()


def prepare(server: database.Server, spec: DatasetSpec, server_key: bytes, args: argparse.Namespace):
    """The database URL, the data set, and one API client per member."""
    description = json.dumps({**asdict(spec), "reference_date": spec.reference_date.isoformat()}, sort_keys=True)
    name = args.database_name
    reuse = args.reuse_database and asyncio.run(database.loaded_spec(server, name)) == description
    if reuse:
        url = server.database_url(name)
        say(f"reusing database {name} (same data set)")
    else:
        url = asyncio.run(database.recreate_database(server, name))
        database.migrate_database(url)
        say(f"created and migrated database {name}")
    clients = asyncio.run(database.member_clients(url, spec.members))
    started = time.perf_counter()
    dataset = Dataset(spec, server_key, [c.member for c in clients])
    say(f"generated {spec.subjects:,} borrowers in {time.perf_counter() - started:.1f} s")
    if not reuse:
        report = asyncio.run(database.load(url, dataset, progress=lambda line: say(line) if "inquiries" in line else None))
        asyncio.run(database.mark_loaded(url, description))
        say(f"loaded {report.records:,} records, {report.events:,} events, {report.inquiries:,} inquiries "
            f"in {report.seconds:.0f} s with COPY ({report.size_bytes / 2**30:.2f} GiB)")
    return url, dataset, clients


async def _server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


def ratio(service_result: Measurement, raw_result: Measurement) -> float:
    return service_result.subjects_per_second / raw_result.subjects_per_second if raw_result.subjects_per_second else 0.0


def print_results(results: list[Measurement]) -> None:
    say()
    header = (f"{'phase':<20}{'subjects/s':>11}{'queries/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}"
              "   cores busy: client service postgres other")
    say(header)
    say("-" * len(header))
    for m in results:
        cores = m.cores
        split = (f"{cores['client']:>6.2f}{cores['service']:>8.2f}{cores['postgres']:>9.2f}{cores['other']:>6.2f}"
                 if cores else "   -")
        say(f"{m.name:<20}{m.subjects_per_second:>11,.0f}{m.queries_per_second:>10,.1f}{m.percentile(50):>9.1f}"
            f"{m.percentile(99):>9.1f}{m.errors:>7}             {split}")
        if m.first_error:
            say(f"    first error: {m.first_error}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec = DatasetSpec(records=args.records, subjects=args.subjects, members=args.members, seed=args.seed,
                       **({"reference_date": args.reference_date} if args.reference_date else {}))
    server_key = bench_server_key(args.seed)
    work_dir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    raw_pool_size = args.raw_pool_size or args.workers * 10
    server = database.choose_server(work_dir / "pg")
    keep = args.keep_database or args.reuse_database
    say(f"exposure benchmark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run, "
        f"Python {platform.python_version()}, {server.origin}")
    say(f"data set: {spec.records:,} records over {spec.subjects:,} borrowers from {spec.members} members, "
        f"seed {spec.seed}, reference date {spec.reference_date}")
    results: list[Measurement] = []
    try:
        url, dataset, clients = prepare(server, spec, server_key, args)
        say(f"PostgreSQL {asyncio.run(_server_version(url))}")
        pool_tokens = query_pool(dataset.tokens, dataset.unknown_tokens(spec.subjects // 10 + 1),
                                 min(200_000, spec.subjects), spec.seed)
        pool_keys = [subject_key(server_key, token) for token in pool_tokens]
        subjects_file = work_dir / "subjects.txt"
        subjects_file.write_text("\n".join(pool_tokens))
        running = service.start(url, server_key, work_dir / "service", workers=args.workers, log_level=args.log_level)
        try:
            tokens = service.access_tokens(running, clients)
            say(f"service: {args.workers} workers on port {running.port}; {len(tokens)} access tokens issued; "
                f"raw baseline pool: {raw_pool_size} connections; concurrency {args.concurrency}")
            for phase in args.phases:
                batch = 1 if phase == "single" else args.batch_size
                label = "single" if batch == 1 else f"batch {batch}"
                say(f"measuring {label}: raw, then service ({args.warmup:g} s warm-up + {args.duration:g} s each)")
                results.append(run_loop(raw.run(
                    url, clients, pool_keys, name=f"raw {label}", batch_size=batch, concurrency=args.concurrency,
                    duration=args.duration, warmup=args.warmup, pool_size=raw_pool_size, database=args.database_name,
                )))
                profilers = _start_profilers(args.profile, running.worker_pids(), label, args.warmup, args.duration)
                results.append(service.run_load(
                    running, tokens, subjects_file, work_dir, name=f"service {label}", batch_size=batch,
                    concurrency=args.concurrency, duration=args.duration, warmup=args.warmup,
                    consent_ref=raw.CONSENT_REF, database=args.database_name,
                ))
                _stop_profilers(profilers)
        finally:
            running.stop()
        print_results(results)
        say()
        verdicts = {}
        by_name = {m.name: m for m in results}
        for phase in args.phases:
            label = "single" if phase == "single" else f"batch {args.batch_size}"
            value = ratio(by_name[f"service {label}"], by_name[f"raw {label}"])
            goal = GOALS[phase]
            verdicts[label] = {"ratio": round(value, 3), "goal": goal, "met": value >= goal}
            say(f"ratio service/raw, {label}: {value:.2f} (goal >= {goal}) {'met' if value >= goal else 'MISSED'}")
        if args.json:
            args.json.write_text(json.dumps({
                "spec": {**asdict(spec), "reference_date": spec.reference_date.isoformat()},
                "cores": os.cpu_count(), "workers": args.workers, "raw_pool_size": raw_pool_size,
                "results": [m.summary() for m in results], "ratios": verdicts,
            }, indent=2))
        return 0
    finally:
        if not keep:
            asyncio.run(database.drop_database(server, args.database_name))
        server.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def _start_profilers(directory: Path | None, worker_pids: list[int], label: str, warmup: float, duration: float):
    """py-spy on each worker for the measured window (started now, it samples from the warm-up on)."""
    if directory is None:
        return []
    import subprocess

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    directory.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(warmup + duration)),
                          "--rate", "250", "--format", "speedscope", "--nonblocking",
                          "--output", str(directory / f"{label.replace(' ', '-')}-worker-{n}.speedscope.json")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for n, pid in enumerate(worker_pids)
    ]


def _stop_profilers(profilers) -> None:
    for profiler in profilers:
        profiler.wait(timeout=120)


if __name__ == "__main__":
    sys.exit(main())
