"""The exposure benchmark, in one run (`python -m bench.exposure`, `make bench`):

1. a fresh database (BENCH_DATABASE_URL's server, else a local server on 127.0.0.1:5432,
   else an embedded PostgreSQL), migrated, loaded with the generated data set, vacuumed
   and analyzed;
2. three sides asking the same members about the same subjects in the same order:
   - pgbench: the exposure call from a C client with prepared statements (bench/pgbench.py),
     the database's own limit;
   - asyncpg: the same call through a plain asyncpg pool (bench/raw.py);
   - the real service over HTTP (`registry serve --workers 2`), driven by a load generator
     process (bench/loadgen.py);

for single-subject queries and for batches, then single vehicle checks (service against
pgbench calling `registry_collateral_exposure`) and the exposure statement v4 against v3
(pgbench calling both frozen statements), each side measured in `--rounds` windows whose
order rotates from round to round (with three rounds, each side leads once). It prints
subjects/s, p50/p99 latency, where the cores went and the CPU per query of each party,
then the ratios service/pgbench (the headline) and service/asyncpg, and refuses a ratio
when either side failed a query or was bound by its own client. docs/performance.md
explains."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg

from bench import database, pgbench, raw, service
from bench.cpu import postmaster_of
from bench.dataset import Dataset, DatasetSpec
from bench.measure import Measurement, QueryPlan, run_loop
from registry.config import Settings
from registry.core.subjects import subject_key

SIDES = ("pgbench", "asyncpg", "service")
# service / pgbench, subjects per second (issue goals); the asyncpg line keeps its old goals.
# Vehicle checks: the service/pgbench ratio of single-subject exposure in the same run (issue
# 15); this figure stands in when that phase did not run. Contingent: the exposure statement
# with contingent figures (v4) keeps this share of the one before (v3).
GOALS = {
    "pgbench": {"single": 0.6, "batch": 0.85, "vehicle": 0.6},
    "asyncpg": {"single": 0.5, "batch": 0.7},
    "v3": {"contingent": 0.8},
}


@dataclass(frozen=True)
class Phase:
    """A comparison: which check it asks (`exposure` or `vehicle`), single or batched, and the
    sides that can run it (`v3`, `v4`: pgbench calling the frozen exposure statements)."""

    check: str
    batched: bool
    sides: tuple[str, ...]
    numerator: str  # the side whose share of the others' throughput is the verdict


PHASES = {
    "single": Phase("exposure", False, SIDES, "service"),
    "batch": Phase("exposure", True, SIDES, "service"),
    "vehicle": Phase("vehicle", False, ("pgbench", "service"), "service"),
    "contingent": Phase("exposure", False, ("v3", "v4"), "v4"),
}
SIDE_NAMES = {"v3": "pgbench v3", "v4": "pgbench v4"}
MAX_CLIENT_SHARE = 0.15  # of the machine's cores: a side whose client used more is client-bound
QUICK = {"records": 20_000, "subjects": 10_000, "members": 10, "duration": 5.0, "warmup": 2.0, "rounds": 1}
QUERY_POOL = 200_000


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Options of the data set and its database (shared with bench.latency)."""
    data = parser.add_argument_group("data set")
    data.add_argument("--records", type=int, default=1_000_000, help="records to load (default 1,000,000)")
    data.add_argument("--subjects", type=int, default=500_000, help="borrowers they concern (default 500,000)")
    data.add_argument("--members", type=int, default=50, help="reporting members (default 50)")
    data.add_argument("--seed", type=int, default=20261128, help="the data set and query order follow from it")
    data.add_argument(
        "--reference-date",
        type=date.fromisoformat,
        default=None,
        help="the data set's 'today' (default: today, so the 24-month and 90-day windows apply)",
    )
    db = parser.add_argument_group("database")
    db.add_argument("--database-name", default="registry_bench", help="database to (re)create (default registry_bench)")
    db.add_argument("--keep-database", action="store_true", help="keep the database after the run")
    db.add_argument(
        "--reuse-database",
        action="store_true",
        help="reuse the database when it holds this very data set (implies --keep-database)",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.exposure", description=__doc__.split("\n\n")[0])
    add_data_options(parser)
    run = parser.add_argument_group("run")
    run.add_argument("--duration", type=float, default=15.0, help="measured seconds per window (default 15)")
    run.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before each window (default 5)")
    run.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="windows per side and phase; the sides' order rotates each round, so with 3 each "
        "side goes first once (default 3)",
    )
    run.add_argument("--sides", default=",".join(SIDES), help=f"which of {','.join(SIDES)} to run (default all)")
    run.add_argument(
        "--concurrency", type=int, default=64, help="concurrent queries of the asyncpg and service sides (default 64)"
    )
    run.add_argument("--batch-size", type=int, default=1000, help="subjects per batch query (default 1000)")
    run.add_argument("--workers", type=int, default=2, help="service worker processes (default 2)")
    run.add_argument(
        "--connections",
        type=int,
        default=None,
        help="database connections of the asyncpg pool and of pgbench "
        "(default: the service's total, workers x REGISTRY_POOL_MAX_SIZE)",
    )
    run.add_argument(
        "--quota",
        type=int,
        default=None,
        help="exposure subjects per minute per member, passed to every side "
        "(default: the service's REGISTRY_DEFAULT_EXPOSURE_PER_MINUTE)",
    )
    run.add_argument(
        "--phases",
        default=",".join(PHASES),
        help="which of single (borrower exposure), batch, vehicle (single vehicle checks) and contingent "
        "(the exposure statement v4 against v3, by pgbench) to run (default all)",
    )
    run.add_argument("--log-level", default="INFO", help="the service's log level (default INFO, as deployed)")
    run.add_argument(
        "--max-client-share",
        type=float,
        default=MAX_CLIENT_SHARE,
        help="a side whose client used more than this share of the machine's cores gets no "
        f"verdict (default {MAX_CLIENT_SHARE})",
    )
    run.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20k records, 10k subjects, 10 members, one round of 5-second windows",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, help="also write the results to this JSON file")
    out.add_argument(
        "--profile",
        type=Path,
        help="record py-spy flame graphs of the service workers into this directory (needs py-spy)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if parser.get_default(name) == getattr(args, name):
                setattr(args, name, value)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if set(args.phases) - set(PHASES) or not args.phases:
        parser.error(f"--phases takes some of {','.join(PHASES)}")
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if set(args.sides) - set(SIDES) or not args.sides:
        parser.error(f"--sides takes some of {','.join(SIDES)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def say(message: str = "") -> None:
    print(message, flush=True)


def bench_server_key(seed: int) -> bytes:
    """The bench's K_server: fixed by the seed, so a reused database still matches."""
    return hashlib.sha256(f"registry-bench-server-key:{seed}".encode()).digest()


def dataset_spec(args: argparse.Namespace) -> DatasetSpec:
    return DatasetSpec(
        records=args.records,
        subjects=args.subjects,
        members=args.members,
        seed=args.seed,
        **({"reference_date": args.reference_date} if args.reference_date else {}),
    )


def prepare(server: database.Server, spec: DatasetSpec, server_key: bytes, args: argparse.Namespace):
    """The database URL, the data set, and one API client per member."""
    description = json.dumps(spec.description(), sort_keys=True)
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
    dataset = Dataset(spec, server_key, [c.member for c in clients])
    if not reuse:
        report = asyncio.run(database.load(url, dataset, progress=say))
        asyncio.run(database.mark_loaded(url, description))
        say(
            f"loaded {report.records:,} records, {report.events:,} events, {report.inquiries:,} inquiries "
            f"in {report.seconds:.0f} s with COPY ({report.size_bytes / 2**30:.2f} GiB); "
            f"bench peak RSS so far {peak_rss_mb():.0f} MB"
        )
    return url, dataset, clients


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def server_facts(url: str) -> tuple[str, int | None]:
    """The server's version, and its postmaster's process id when it runs on this machine."""
    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        return version, postmaster_of(await conn.fetchval("SELECT pg_backend_pid()"))  # while it lives
    finally:
        await conn.close()


@dataclass(frozen=True)
class Verdict:
    baseline: str
    ratio: float | None  # None: refused
    goal: float
    reasons: tuple[str, ...]
    by_round: tuple[float, ...]
    numerator: str = "service"
    goal_source: str = ""  # where the goal comes from, when it is not a fixed figure

    def line(self, label: str) -> str:
        head = f"{self.numerator}/{self.baseline}, {label}:"
        if self.ratio is None:
            return f"{head} NO VERDICT: " + "; ".join(self.reasons)
        spread = ", ".join(f"{r:.2f}" for r in self.by_round)
        met = "met" if self.ratio >= self.goal else "MISSED"
        goal = f"goal >= {self.goal:.2f}" + (f", {self.goal_source}" if self.goal_source else "")
        return f"{head} {self.ratio:.2f} ({goal}) {met}   [by round: {spread}]"

    def as_json(self) -> dict:
        return {
            "numerator": self.numerator,
            "baseline": self.baseline,
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "goal": self.goal,
            "met": None if self.ratio is None else self.ratio >= self.goal,
            "refused_because": list(self.reasons),
            "by_round": [round(r, 3) for r in self.by_round],
        }


def refusals(m: Measurement, cores: int, max_share: float) -> list[str]:
    """Why `m` cannot carry a verdict: failed queries, or a client using too much of the machine."""
    reasons = []
    if not m.queries:
        reasons.append(f"{m.name}: no query completed in its windows")
    if m.errors:
        reasons.append(f"{m.name} failed {m.errors} queries (first: {m.first_error})")
    if not m.cores:
        reasons.append(f"{m.name}: no CPU accounting (needs /proc), so client-bound cannot be ruled out")
    elif m.cores["client"] / cores > max_share:
        reasons.append(
            f"{m.name} is client-bound: its client used {m.cores['client']:.2f} cores, "
            f"{m.cores['client'] / cores:.0%} of {cores} > {max_share:.0%}"
        )
    return reasons


def verdict(
    phase: str,
    baseline: str,
    service_rounds: list[Measurement],
    base_rounds: list[Measurement],
    cores: int,
    max_share: float,
    *,
    numerator: str = "service",
    goal: float | None = None,
    goal_source: str = "",
) -> Verdict:
    service_all = Measurement.combined(service_rounds[0].name.split(" #")[0], service_rounds)
    base_all = Measurement.combined(base_rounds[0].name.split(" #")[0], base_rounds)
    reasons = tuple(refusals(service_all, cores, max_share) + refusals(base_all, cores, max_share))
    by_round = tuple(
        s.subjects_per_second / b.subjects_per_second if b.subjects_per_second else 0.0
        for s, b in zip(service_rounds, base_rounds, strict=True)
    )
    value = service_all.subjects_per_second / base_all.subjects_per_second if base_all.subjects_per_second else 0.0
    goal = GOALS[baseline][phase] if goal is None else goal
    return Verdict(baseline, None if reasons else value, goal, reasons, by_round, numerator, goal_source)


HEADER = (
    f"{'side':<22}{'subjects/s':>11}{'queries/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}"
    f"   cores: {'client':>6}{'service':>8}{'postgres':>9}{'other':>6}"
)


def phase_label(phase: str, batch_size: int) -> str:
    return {"batch": f"batch {batch_size}", "contingent": "single (contingent)"}.get(phase, phase)


def phase_sides(phase: str, sides: list[str]) -> list[str]:
    """The sides of `phase` among those asked for (the statement versions run on pgbench)."""
    if phase == "contingent":
        return ["v3", "v4"] if "pgbench" in sides else []
    return [s for s in sides if s in PHASES[phase].sides]


def result_line(m: Measurement) -> str:
    c = m.cores
    split = (
        f"{c.get('client', 0):>6.2f}{c.get('service', 0):>8.2f}{c.get('postgres', 0):>9.2f}{c.get('other', 0):>6.2f}"
        if c
        else "     -"
    )
    return (
        f"{m.name:<22}{m.subjects_per_second:>11,.0f}{m.queries_per_second:>10,.1f}{m.percentile(50):>9.1f}"
        f"{m.percentile(99):>9.1f}{m.errors:>7}          {split}"
    )


def cpu_lines(results: list[Measurement]) -> list[str]:
    out = [f"{'CPU ms per query':<22}{'client':>8}{'service':>9}{'postgres':>10}"]
    for m in results:
        out.append(
            f"{m.name:<22}{m.cpu_ms_per_query('client'):>8.2f}{m.cpu_ms_per_query('service'):>9.2f}"
            f"{m.cpu_ms_per_query('postgres'):>10.2f}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings()  # read once, like the service: its role, pool and quota
    role = settings.database_role or None
    quota = args.quota or settings.default_exposure_per_minute
    connections = args.connections or args.workers * settings.pool_max_size
    spec = dataset_spec(args)
    server_key = bench_server_key(args.seed)
    work_dir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    server = database.choose_server(work_dir / "pg")
    keep = args.keep_database or args.reuse_database
    cores = os.cpu_count() or 1
    pgbench_path = None
    if "pgbench" in args.sides:
        try:
            pgbench_path = pgbench.find()
        except pgbench.PgbenchMissing as missing:
            say(str(missing))
            return 2
    say(
        f"exposure benchmark: {cores} cores, load average {os.getloadavg()[0]:.2f} before the run, "
        f"Python {platform.python_version()}, {server.origin}"
    )
    say(
        f"data set: {spec.records:,} records over {spec.subjects:,} borrowers from {spec.members} members, "
        f"seed {spec.seed}, reference date {spec.reference_date}"
    )
    rounds: dict[tuple[str, str], list[Measurement]] = {}
    try:
        url, dataset, clients = prepare(server, spec, server_key, args)
        version, postmaster = asyncio.run(server_facts(url))
        say(f"PostgreSQL {version}" + ("" if postmaster else " (not on this machine: its CPU is not accounted)"))
        pool_tokens = dataset.query_pool(min(QUERY_POOL, spec.subjects))
        pool_keys = [subject_key(server_key, token) for token in pool_tokens]
        subjects_file = work_dir / "subjects.txt"
        subjects_file.write_text("\n".join(pool_tokens))
        vehicle_tokens = dataset.vehicle_pool(min(QUERY_POOL, spec.subjects))
        vehicle_keys = [subject_key(server_key, token) for token in vehicle_tokens]
        vehicles_file = work_dir / "vehicles.txt"
        vehicles_file.write_text("\n".join(vehicle_tokens))
        if "vehicle" in args.phases:
            pledged = asyncio.run(database.pledged(url, vehicle_keys))
            say(f"vehicle pool: {len(vehicle_tokens):,} vin tokens, {pledged:,} of them pledged in the data set")
        if pgbench_path:
            asyncio.run(
                pgbench.install(
                    url, pool_keys, clients, role, vehicle_keys=vehicle_keys, versions="contingent" in args.phases
                )
            )
            say(f"pgbench: {pgbench_path} ({pgbench.version(pgbench_path)})")
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
                f"service: {args.workers} workers on port {running.port}, role {role or '(login)'}; "
                f"{len(tokens)} access tokens; quota {quota:,} subjects/min/member; asyncpg pool and pgbench: "
                f"{connections} connections; concurrency of asyncpg and service: {args.concurrency}; "
                f"query pool {len(pool_tokens):,} subjects"
            )
            say(
                f"windows: {args.warmup:g} s warm-up + {args.duration:g} s measured, {args.rounds} round(s) per side; "
                f"a side whose client uses over {args.max_client_share:.0%} of the cores gets no verdict"
            )
            say()
            say(HEADER)
            for phase in args.phases:
                batch = args.batch_size if PHASES[phase].batched else 1
                label = phase_label(phase, args.batch_size)
                vehicles = PHASES[phase].check == "vehicle"
                plan = QueryPlan(len(vehicle_tokens if vehicles else pool_tokens), batch, len(clients))
                sides = phase_sides(phase, args.sides)
                if not sides:
                    say(f"{phase}: none of its sides ({', '.join(PHASES[phase].sides)}) is asked for; skipped")
                    continue
                for r in range(args.rounds):
                    order = sides[r % len(sides) :] + sides[: r % len(sides)]
                    for side in order:
                        name = f"{SIDE_NAMES.get(side, side)} {label}" + (f" #{r + 1}" if args.rounds > 1 else "")
                        m = measure(
                            side,
                            name,
                            phase,
                            r,
                            plan,
                            args,
                            url=url,
                            clients=clients,
                            pool_keys=pool_keys,
                            running=running,
                            tokens=tokens,
                            subjects_file=vehicles_file if vehicles else subjects_file,
                            work_dir=work_dir,
                            pgbench_path=pgbench_path,
                            role=role,
                            quota=quota,
                            connections=connections,
                            postmaster=postmaster,
                        )
                        rounds.setdefault((phase, side), []).append(m)
                        say(result_line(m))
                        if m.first_error:
                            say(f"    first error: {m.first_error}")
        finally:
            running.stop()
        return report(args, rounds, cores, spec, connections, quota, role)
    finally:
        if not keep:
            asyncio.run(database.drop_database(server, args.database_name))
        elif pgbench_path:
            asyncio.run(pgbench.uninstall(server.database_url(args.database_name)))
        server.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def measure(
    side: str,
    name: str,
    phase: str,
    r: int,
    plan: QueryPlan,
    args: argparse.Namespace,
    *,
    url,
    clients,
    pool_keys,
    running,
    tokens,
    subjects_file,
    work_dir,
    pgbench_path,
    role,
    quota,
    connections,
    postmaster,
) -> Measurement:
    check = PHASES[phase].check
    if side == "asyncpg":
        return run_loop(
            raw.run(
                url,
                clients,
                pool_keys,
                plan,
                name=name,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                pool_size=connections,
                role=role,
                quota_per_minute=quota,
                database=args.database_name,
                postmaster=postmaster,
            )
        )
    if side in ("pgbench", "v3", "v4"):
        call = pgbench.VERSIONS.get(side) or (pgbench.VEHICLE_CHECK if check == "vehicle" else pgbench.EXPOSURE)
        tag = f"{side}-{phase}-{r}-{int(time.time())}"
        m = pgbench.run(
            pgbench_path,
            url,
            plan,
            work_dir / "pgbench",
            name=name,
            tag=tag,
            connections=connections,
            duration=args.duration,
            warmup=args.warmup,
            role=role,
            quota_per_minute=quota,
            database=args.database_name,
            postmaster=postmaster,
            call=call,
        )
        audited, refused = asyncio.run(pgbench.refused(url, tag, call))
        if refused:
            m.errors += refused
            m.first_error = m.first_error or f"{refused} of {audited} calls refused by the registry (audit outcome)"
        return m
    profilers = _start_profilers(args.profile, running.worker_pids(), name, args.warmup, args.duration)
    try:
        return service.run_load(
            running,
            tokens,
            subjects_file,
            work_dir,
            name=name,
            batch_size=plan.batch_size,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            consent_ref=raw.CONSENT_REF,
            database=args.database_name,
            postmaster=postmaster,
            check=check,
        )
    finally:
        _stop_profilers(profilers)


def report(
    args: argparse.Namespace,
    rounds: dict[tuple[str, str], list[Measurement]],
    cores: int,
    spec: DatasetSpec,
    connections: int,
    quota: int,
    role: str | None,
) -> int:
    combined = []
    for phase in args.phases:
        label = phase_label(phase, args.batch_size)
        for side in phase_sides(phase, args.sides):
            if (phase, side) in rounds:
                combined.append(Measurement.combined(f"{SIDE_NAMES.get(side, side)} {label}", rounds[(phase, side)]))
    say()
    say(f"all rounds together ({args.rounds} x {args.duration:g} s per side):")
    say(HEADER)
    for m in combined:
        say(result_line(m))
    say()
    for line in cpu_lines(combined):
        say(line)
    say()
    verdicts: dict[str, list[dict]] = {}
    borrower: Verdict | None = None  # single-subject service/pgbench: the vehicle checks' goal
    for phase in args.phases:
        label = phase_label(phase, args.batch_size)
        sides = phase_sides(phase, args.sides)
        numerator = PHASES[phase].numerator
        if numerator not in sides or not all((phase, side) in rounds for side in sides):
            continue
        for baseline in [s for s in ("pgbench", "asyncpg", "v3") if s in sides]:
            goal, source = None, ""
            if phase == "vehicle" and borrower is not None and borrower.ratio is not None:
                goal, source = borrower.ratio, "the borrower single-subject ratio of this run"
            v = verdict(
                phase,
                baseline,
                rounds[(phase, numerator)],
                rounds[(phase, baseline)],
                cores,
                args.max_client_share,
                numerator=numerator,
                goal=goal,
                goal_source=source,
            )
            if phase == "single" and baseline == "pgbench":
                borrower = v
            say(("  " if baseline == "asyncpg" else "") + v.line(label))
            verdicts.setdefault(phase if phase == "contingent" else label, []).append(v.as_json())
    failed = sum(m.errors for m in combined)
    say(
        f"machine: 'other' CPU (not the bench's) averaged "
        f"{sum(m.cores.get('other', 0) * m.seconds for m in combined) / max(1e-9, sum(m.seconds for m in combined)):.2f} "  # noqa: E501
        f"cores of {cores}; load average {os.getloadavg()[0]:.2f} now; bench peak RSS {peak_rss_mb():.0f} MB"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "spec": spec.description(),
                    "cores": cores,
                    "workers": args.workers,
                    "connections": connections,
                    "concurrency": args.concurrency,
                    "quota_per_minute": quota,
                    "role": role,
                    "rounds": args.rounds,
                    "duration": args.duration,
                    "warmup": args.warmup,
                    "max_client_share": args.max_client_share,
                    "windows": [m.summary() for ms in rounds.values() for m in ms],
                    "results": [m.summary() for m in combined],
                    "verdicts": verdicts,
                },
                indent=2,
            )
        )
    if failed:
        say(f"{failed} queries failed: no verdict stands on this run")
        return 1
    return 0


def _start_profilers(directory: Path | None, worker_pids: list[int], label: str, warmup: float, duration: float):
    """py-spy on each worker for the measured window (started now, it samples from the warm-up on)."""
    if directory is None:
        return []
    import subprocess

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    directory.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(warmup + duration)),
                "--rate",
                "250",
                "--format",
                "speedscope",
                "--nonblocking",
                "--output",
                str(directory / f"{label.replace(' ', '-').replace('#', '')}-worker-{n}.speedscope.json"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, pid in enumerate(worker_pids)
    ]


def _stop_profilers(profilers) -> None:
    for profiler in profilers:
        profiler.wait(timeout=120)


if __name__ == "__main__":
    sys.exit(main())
