"""Latency at fixed load (`python -m bench.latency`, `make bench-latency`): the service's
p50/p95/p99/max under an open-loop load (Poisson arrivals at a fixed rate,
bench/openloop.py) at shares of its measured maximum, for single-subject queries and for
batches, and the highest rate at which p99 stays within the target.

1. The data set and database as `bench.exposure` makes them (the same options; with
   `--reuse-database` the load is skipped when the database holds the same data set).
2. Per phase, the maximum: the closed-loop load generator (bench/loadgen.py) at
   `--concurrency` for one window: queries/s.
3. One open-loop window at each of `--levels` percent of that maximum.
4. A bisection between the highest level within the target and the lowest beyond it, for
   the highest rate whose p99 stays within `--target-p99` ms.
5. The plots (latency against offered load; latency by percentile at each level) as PNG
   under `--plots` (needs matplotlib: `pip install -e '.[bench]'`).

A window with a failed request is void (its latency is missing). A caveat marks one whose
generator was late (dispatch lag p99 over `--max-lag` ms) or used over
`--max-client-share` of the cores (pessimistic: the delay is in its latencies), or that
holds under 100 requests (its p99 is near its maximum)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import database, service
from bench.exposure import (
    MAX_CLIENT_SHARE,
    QUERY_POOL,
    add_data_options,
    bench_server_key,
    dataset_spec,
    prepare,
    say,
    server_facts,
)
from bench.raw import CONSENT_REF
from registry.config import Settings

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (25, 50, 70, 90)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n\n")[0])
    add_data_options(parser)
    run = parser.add_argument_group("run")
    run.add_argument("--phases", default="single,batch", help="which of single,batch to run (default both)")
    run.add_argument("--batch-size", type=int, default=100, help="subjects per batch request (default 100)")
    run.add_argument(
        "--levels",
        default=",".join(map(str, LEVELS)),
        help="offered loads in percent of the measured maximum (default 25,50,70,90)",
    )
    run.add_argument("--duration", type=float, default=20.0, help="measured seconds per level (default 20)")
    run.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each window (default 3)")
    run.add_argument(
        "--max-duration", type=float, default=10.0, help="measured seconds of the closed-loop maximum (default 10)"
    )
    run.add_argument("--concurrency", type=int, default=64, help="concurrency of the closed-loop maximum (default 64)")
    run.add_argument("--target-p99", type=float, default=50.0, help="the p99 the search keeps within, ms (default 50)")
    run.add_argument("--search-steps", type=int, default=4, help="bisection steps of the search (default 4; 0: none)")
    run.add_argument(
        "--search-duration",
        type=float,
        default=10.0,
        help="measured seconds per search step, at least enough for --min-requests (default 10)",
    )
    run.add_argument(
        "--min-requests",
        type=int,
        default=200,
        help="requests a search step measures at least, so its p99 is not its maximum (default 200; "
        "steps last 60 s at most)",
    )
    run.add_argument(
        "--max-connections", type=int, default=256, help="keep-alive connections the generator may open (default 256)"
    )
    run.add_argument("--timeout", type=float, default=30.0, help="a request unanswered this long fails (default 30 s)")
    run.add_argument("--workers", type=int, default=2, help="service worker processes (default 2)")
    run.add_argument("--log-level", default="INFO", help="the service's log level (default INFO, as deployed)")
    run.add_argument(
        "--max-lag",
        type=float,
        default=5.0,
        help="dispatch lag p99 (ms) beyond which the generator is too late to trust (default 5)",
    )
    run.add_argument(
        "--max-client-share",
        type=float,
        default=MAX_CLIENT_SHARE,
        help=f"share of the cores the generator may use (default {MAX_CLIENT_SHARE})",
    )
    run.add_argument("--seed-offset", type=int, default=0, help="varies the arrival times (default 0)")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--plots",
        type=Path,
        default=ROOT / "docs" / "performance",
        help="directory of the PNG plots (default docs/performance); 'none' for no plots",
    )
    out.add_argument("--json", type=Path, help="also write the results (with every latency) to this JSON file")
    args = parser.parse_args(argv)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if set(args.phases) - {"single", "batch"}:
        parser.error("--phases takes single and/or batch")
    args.levels = [float(x) for x in args.levels.split(",") if x.strip()]
    if str(args.plots) == "none":
        args.plots = None
    return args


def open_loop(
    running: service.Service,
    tokens: list[str],
    subjects_file: Path,
    work_dir: Path,
    *,
    name: str,
    batch_size: int,
    rate: float,
    duration: float,
    warmup: float,
    seed: int,
    args: argparse.Namespace,
    postmaster: int | None,
) -> dict:
    config_path = work_dir / "openloop.json"
    config = {
        "host": running.host,
        "port": running.port,
        "access_tokens": tokens,
        "subjects_file": str(subjects_file),
        "name": name,
        "batch_size": batch_size,
        "rate": rate,
        "duration": duration,
        "warmup": warmup,
        "seed": seed,
        "max_connections": args.max_connections,
        "timeout": args.timeout,
        "consent_ref": CONSENT_REF,
        "database": args.database_name,
        "service_pids": running.pids(),
        "postmaster": postmaster,
    }
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds access tokens
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.openloop", str(config_path)],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            timeout=warmup + duration + args.timeout + 600,
        )
    finally:
        config_path.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"the open-loop generator failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    result["invalid"], result["warnings"] = judge(result, args)
    return result


def judge(result: dict, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Why a window's figures are void (a failed request: its latency is missing), and what
    makes them pessimistic (a late or busy generator adds its delay to the latencies, which
    run from the scheduled time, and bunches the arrivals)."""
    invalid, warnings = [], []
    if result["failed"] or result["errors_total"]:
        invalid.append(f"{result['errors_total']} failed requests (first: {result['first_error']})")
    if result["answered"] < 100:
        warnings.append(f"only {result['answered']} requests: the p99 is near the maximum")
    if result["lag_p99_ms"] > args.max_lag:
        warnings.append(f"generator late: dispatch lag p99 {result['lag_p99_ms']:.1f} ms")
    cores = os.cpu_count() or 1
    client = result["cores"].get("client")
    if client is not None and client / cores > args.max_client_share:
        warnings.append(f"generator used {client:.2f} cores")
    return invalid, warnings


HEADER = (
    f"{'':<16}{'offered/s':>10}{'% max':>7}{'answered/s':>11}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
    f"{'conns':>6}{'lag p99':>8}   cores: client service postgres other"
)


def line(label: str, r: dict, maximum: float) -> str:
    c = r["cores"]
    split = (
        f"{c.get('client', 0):>6.2f}{c.get('service', 0):>8.2f}{c.get('postgres', 0):>9.2f}{c.get('other', 0):>6.2f}"
        if c
        else "     -"
    )
    text = (
        f"{label:<16}{r['rate']:>10,.1f}{100 * r['rate'] / maximum:>6.0f}%{r['answered'] / r['duration']:>11,.1f}"
        f"{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['max_ms']:>8.1f}{r['connections']:>6}"
        f"{r['lag_p99_ms']:>8.1f}          {split}"
    )
    if r["invalid"]:
        text += "   VOID: " + "; ".join(r["invalid"])
    if r["warnings"]:
        text += "   (caveat: " + "; ".join(r["warnings"]) + ")"
    return text


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings()  # read once, like the service
    role = settings.database_role or None
    quota = settings.default_exposure_per_minute
    spec = dataset_spec(args)
    server_key = bench_server_key(args.seed)
    work_dir = Path(tempfile.mkdtemp(prefix="registry-latency-"))
    server = database.choose_server(work_dir / "pg")
    keep = args.keep_database or args.reuse_database
    cores = os.cpu_count() or 1
    say(f"latency benchmark: {cores} cores, load average {os.getloadavg()[0]:.2f} before the run, {server.origin}")
    say(
        f"data set: {spec.records:,} records over {spec.subjects:,} borrowers from {spec.members} members, "
        f"seed {spec.seed}, reference date {spec.reference_date}"
    )
    results: dict[str, dict] = {}
    try:
        url, dataset, clients = prepare(server, spec, server_key, args)
        version, postmaster = asyncio.run(server_facts(url))
        say(f"PostgreSQL {version}")
        pool_tokens = dataset.query_pool(min(QUERY_POOL, spec.subjects))
        subjects_file = work_dir / "subjects.txt"
        subjects_file.write_text("\n".join(pool_tokens))
        running = service.start(
            url,
            server_key,
            work_dir / "service",
            workers=args.workers,
            log_level=args.log_level,
            role=role,
            quota_per_minute=quota,
        )
        try:
            tokens = service.access_tokens(running, clients)
            say(
                f"service: {args.workers} workers on port {running.port}; open loop: Poisson arrivals, up to "
                f"{args.max_connections} connections; {args.warmup:g} s warm-up + {args.duration:g} s per level"
            )
            for phase in args.phases:
                results[phase] = run_phase(phase, args, running, tokens, subjects_file, work_dir, postmaster)
        finally:
            running.stop()
        say()
        say(f"machine: load average {os.getloadavg()[0]:.2f} now")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "spec": spec.description(),
                        "cores": cores,
                        "workers": args.workers,
                        "target_p99_ms": args.target_p99,
                        "phases": results,
                    }
                )
            )
        if args.plots is not None:
            from bench import plots

            try:
                written = plots.draw(
                    results,
                    args.plots,
                    target_p99=args.target_p99,
                    title=f"{spec.records:,} records, {args.workers} workers, {cores} cores",
                )
            except plots.MatplotlibMissing as missing:
                say(str(missing))
            else:
                for path in written:
                    say(f"plot: {path}")
        void = any(r["invalid"] for phase in results.values() for r in [*phase["levels"], *phase["search"]])
        return 1 if void else 0
    finally:
        if not keep:
            asyncio.run(database.drop_database(server, args.database_name))
        server.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def run_phase(
    phase: str,
    args: argparse.Namespace,
    running: service.Service,
    tokens: list[str],
    subjects_file: Path,
    work_dir: Path,
    postmaster: int | None,
) -> dict:
    batch = 1 if phase == "single" else args.batch_size
    label = "single" if batch == 1 else f"batch {batch}"
    closed = service.run_load(
        running,
        tokens,
        subjects_file,
        work_dir,
        name=f"max {label}",
        batch_size=batch,
        concurrency=args.concurrency,
        duration=args.max_duration,
        warmup=args.warmup,
        consent_ref=CONSENT_REF,
        database=args.database_name,
        postmaster=postmaster,
    )
    maximum = closed.queries_per_second
    say()
    say(
        f"{label}: maximum {maximum:,.1f} requests/s closed-loop at concurrency {args.concurrency} "
        f"(p50 {closed.percentile(50):.1f} ms, p99 {closed.percentile(99):.1f} ms, {closed.errors} errors, "
        f"cores {closed.cores})"
    )
    if closed.errors or not maximum:
        raise RuntimeError(f"the maximum of {label} is not measurable: {closed.first_error}")
    say(HEADER)
    seed = args.seed + args.seed_offset
    levels = []
    for n, level in enumerate(args.levels):
        r = open_loop(
            running,
            tokens,
            subjects_file,
            work_dir,
            name=f"{label} {level:g}%",
            batch_size=batch,
            rate=maximum * level / 100,
            duration=args.duration,
            warmup=args.warmup,
            seed=seed + n,
            args=args,
            postmaster=postmaster,
        )
        r["level"] = level
        levels.append(r)
        say(line(f"{level:g}% of max", r, maximum))
    search = []
    within = [r["rate"] for r in levels if r["p99_ms"] <= args.target_p99 and not r["invalid"]]
    beyond = [r["rate"] for r in levels if r["p99_ms"] > args.target_p99]
    low = max(within, default=0.0)
    high = min([b for b in beyond if b > low], default=maximum)
    for step in range(args.search_steps):
        if high - low < max(1.0, 0.02 * maximum):
            break
        rate = (low + high) / 2
        seconds = min(60.0, max(args.search_duration, args.min_requests / rate))
        r = open_loop(
            running,
            tokens,
            subjects_file,
            work_dir,
            name=f"{label} search",
            batch_size=batch,
            rate=rate,
            duration=seconds,
            warmup=args.warmup,
            seed=seed + 100 + step,
            args=args,
            postmaster=postmaster,
        )
        search.append(r)
        say(line(f"search {step + 1}", r, maximum))
        if r["p99_ms"] <= args.target_p99 and not r["invalid"]:
            low = rate
        else:
            high = rate
    goal_level = next((r for r in levels if r["level"] == 70), None)
    say(
        f"{label}: highest rate with p99 <= {args.target_p99:g} ms: {low:,.1f}/s ({100 * low / maximum:.0f}% of the "
        f"maximum; the next rate tried, {high:,.1f}/s, was beyond)"
    )
    if goal_level is not None:
        met = goal_level["p99_ms"] <= args.target_p99 and not goal_level["invalid"]
        say(
            f"{label}: goal p99 <= {args.target_p99:g} ms at 70% of the maximum: p99 {goal_level['p99_ms']:.1f} ms, "
            f"{'met' if met else 'MISSED'}"
        )
    return {
        "label": label,
        "batch_size": batch,
        "maximum": maximum,
        "closed": closed.summary(),
        "levels": levels,
        "search": search,
        "highest_within_target": low,
        "lowest_beyond_target": high,
    }


if __name__ == "__main__":
    sys.exit(main())
