"""The service's own CPU per exposure query, this source tree against another revision, in
one run (`python -m bench.service_cpu --baseline REF`):

1. the data set and database of bench.exposure (the same options, `--reuse-database` too);
2. two services on the same database, each `registry serve --workers 2 --no-migrate`: one
   from this source tree, one from `git archive REF` (the baseline) unpacked beside it;
3. `--rounds` windows of the HTTP load generator against each, alternating which goes
   first, asking the same questions (bench.exposure's query plan);
4. per side: queries/s, p50/p99, and the CPU per query of the service's processes and of
   PostgreSQL, read from /proc. CPU time per query is what a change to the service's code
   changes; wall-clock throughput on a shared machine moves with the neighbours' load, so
   the verdict is the ratio of the service's CPU per query, this tree over the baseline.

Both services stay up for the whole run; the one not being measured is idle (its CPU falls
in "other")."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import database, raw, service
from bench.exposure import (
    HEADER,
    add_data_options,
    bench_server_key,
    dataset_spec,
    prepare,
    result_line,
    say,
    server_facts,
)
from bench.measure import Measurement
from registry.config import Settings

SIDES = ("baseline", "current")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.service_cpu", description=__doc__.split("\n\n")[0])
    add_data_options(parser)
    parser.set_defaults(records=200_000, subjects=100_000, members=20)
    run = parser.add_argument_group("run")
    run.add_argument("--baseline", required=True, help="git revision whose service to compare with (e.g. main)")
    run.add_argument("--rounds", type=int, default=3, help="windows per side; the order alternates (default 3)")
    run.add_argument("--duration", type=float, default=15.0, help="measured seconds per window (default 15)")
    run.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each window (default 3)")
    run.add_argument("--concurrency", type=int, default=64, help="concurrent requests (default 64)")
    run.add_argument("--batch-size", type=int, default=1, help="subjects per query (default 1: single-subject)")
    run.add_argument("--workers", type=int, default=2, help="worker processes of each service (default 2)")
    run.add_argument("--log-level", default="INFO", help="the services' log level (default INFO, as deployed)")
    return parser.parse_args(argv)


def unpack(revision: str, into: Path) -> str:
    """The tree of `revision` (the repository this bench runs from) in `into`; its commit id."""
    root = service.ROOT
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=root, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings()
    role = settings.database_role or None
    quota = settings.default_exposure_per_minute
    spec = dataset_spec(args)
    server_key = bench_server_key(args.seed)
    work_dir = Path(tempfile.mkdtemp(prefix="registry-bench-cpu-"))
    server = database.choose_server(work_dir / "pg")
    keep = args.keep_database or args.reuse_database
    try:
        baseline_commit = unpack(args.baseline, work_dir / "baseline")
        say(
            f"service CPU per query: this tree against {args.baseline} ({baseline_commit}); {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.2f} before the run"
        )
        url, dataset, clients = prepare(server, spec, server_key, args)
        _, postmaster = asyncio.run(server_facts(url))
        pool_tokens = dataset.query_pool(min(200_000, spec.subjects))
        subjects_file = work_dir / "subjects.txt"
        subjects_file.write_text("\n".join(pool_tokens))
        sources = {"baseline": work_dir / "baseline", "current": service.ROOT}
        running = {
            side: service.start(
                url,
                server_key,
                work_dir / f"service-{side}",
                workers=args.workers,
                log_level=args.log_level,
                role=role,
                quota_per_minute=quota,
                source=sources[side],
            )
            for side in SIDES
        }
        try:
            tokens = {side: service.access_tokens(running[side], clients) for side in SIDES}
            label = "single" if args.batch_size == 1 else f"batch {args.batch_size}"
            say(
                f"{args.rounds} round(s) of {args.warmup:g} s warm-up + {args.duration:g} s per side, "
                f"{label}, concurrency {args.concurrency}, {args.workers} workers each, log level {args.log_level}"
            )
            say(HEADER)
            rounds: dict[str, list[Measurement]] = {side: [] for side in SIDES}
            for r in range(args.rounds):
                for side in SIDES if r % 2 == 0 else reversed(SIDES):
                    m = service.run_load(
                        running[side],
                        tokens[side],
                        subjects_file,
                        work_dir,
                        name=f"{side} {label} #{r + 1}",
                        batch_size=args.batch_size,
                        concurrency=args.concurrency,
                        duration=args.duration,
                        warmup=args.warmup,
                        consent_ref=raw.CONSENT_REF,
                        database=args.database_name,
                        postmaster=postmaster,
                    )
                    rounds[side].append(m)
                    say(result_line(m))
                    if m.first_error:
                        say(f"    first error: {m.first_error}")
        finally:
            for run in running.values():
                run.stop()
        return report(rounds, label)
    finally:
        if not keep:
            asyncio.run(database.drop_database(server, args.database_name))
        server.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def report(rounds: dict[str, list[Measurement]], label: str) -> int:
    combined = {side: Measurement.combined(f"{side} {label}", rounds[side]) for side in SIDES}
    say()
    say(f"{'CPU ms per query':<22}{'service':>9}{'postgres':>10}{'client':>8}{'queries/s':>11}{'other cores':>13}")
    for m in combined.values():
        say(
            f"{m.name:<22}{m.cpu_ms_per_query('service'):>9.3f}{m.cpu_ms_per_query('postgres'):>10.3f}"
            f"{m.cpu_ms_per_query('client'):>8.3f}{m.queries_per_second:>11,.1f}{m.cores.get('other', 0):>13.2f}"
        )
    by_round = [
        c.cpu_ms_per_query("service") / b.cpu_ms_per_query("service")
        for b, c in zip(rounds["baseline"], rounds["current"], strict=True)
    ]
    ratio = combined["current"].cpu_ms_per_query("service") / combined["baseline"].cpu_ms_per_query("service")
    say(f"service CPU per query, current / baseline: {ratio:.2f} [by round: {', '.join(f'{x:.2f}' for x in by_round)}]")
    failed = sum(m.errors for m in combined.values())
    if failed:
        say(f"{failed} queries failed: the comparison does not stand")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
