"""Does an upload slow down the other requests of the worker that reads it? (issue 18, 6)

A real `registry serve` worker on a fresh database. A prober process sends single-subject
exposure queries and GET /healthz to it at a fixed Poisson arrival rate (open loop, so
queueing behind a held event loop is not hidden): while it is idle; while it ingests a
large NDJSON upload itself; and while a second worker on the same database ingests one
(the control: the database and the machine are as busy, the probed event loop is not).
Prints p50/p95/p99/max of each phase, the p99 ratios ingesting / idle (the goal: within 2x) and ingesting / control
(what the probed worker's own event loop adds), and where the cores went, in rounds of the
three phases (a burst of other work on a shared machine lands in one round), with the
medians over the rounds.

    python -m bench.ingest_interference                  # 3 rounds, 200,000 upload rows, 10/s
    python -m bench.ingest_interference --rows 1000000 --rate 50 --seconds 30

`--server-url` names a PostgreSQL maintenance URL; without it an embedded server is started
in a temporary directory. docs/uploads.md has the figures."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

from bench import service as bench_service
from bench.cpu import CpuSample
from bench.uploads import SLICE_LINES, lines
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor, for_work
from registry.auth.principal import Scope
from registry.core import migrate
from registry.core.db import Tx, init_connection
from registry.members import service as members_service
from registry.members.schemas import ClientCreate, MemberCreate, MemberKind

GOAL = 2.0  # loaded p99 / idle p99
SEED_ROWS = 20_000  # the querying member's own records: the subjects it asks about
CONSENT_REF = "bench-consent"


async def prepare(server_url: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """A fresh migrated database with an uploading member and a querying one; its URL and
    each one's (client id, secret)."""
    name = f"bench_interference_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    await asyncio.to_thread(migrate.upgrade, url)
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    clients = {}
    try:
        async with conn.transaction():
            tx = Tx(conn)
            for code, scopes in (
                ("UPLOADER", [Scope.RECORDS_WRITE]),
                ("QUERIER", [Scope.RECORDS_WRITE, Scope.EXPOSURE_READ]),
            ):
                member = await members_service.create_member(
                    tx,
                    MemberCreate(code=code, name=code, kind=MemberKind.bank),
                    for_work(AuditAction.ADMIN_MEMBER_CREATE, Actor(None, "bench")),
                )
                client = await members_service.create_client(
                    tx,
                    member.id,
                    ClientCreate(name="bench", scopes=scopes),
                    for_work(AuditAction.ADMIN_CLIENT_CREATE, Actor(None, "bench")),
                )
                clients[code] = (client.client_id, client.client_secret)
    finally:
        await conn.close()
    return url, clients


def serve(url: str, data_dir: Path, server_key: bytes) -> bench_service.Service:
    """`registry serve` with one worker (uvicorn runs it in the server process itself)."""
    port = bench_service.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(
        REGISTRY_DATABASE_URL=url,
        REGISTRY_SERVER_KEY=server_key.hex(),
        REGISTRY_DATA_DIR=str(data_dir),
        REGISTRY_ACCESS_TOKEN_TTL_SECONDS="3600",
        REGISTRY_LOG_LEVEL="WARNING",
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
            env=env,
            cwd=bench_service.ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    service = bench_service.Service(process, "127.0.0.1", port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(service.base_url + "/readyz", timeout=2).status_code == 200:
                return service
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    service.stop()
    raise RuntimeError(f"the server did not become ready: {log_path.read_text()[-2000:]}")


async def token(http: httpx.AsyncClient, client: tuple[str, str]) -> str:
    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=client)
    response.raise_for_status()
    return response.json()["access_token"]


async def body(rows: int, prefix: str) -> AsyncIterator[bytes]:
    batch: list[bytes] = []
    for line in lines(rows, prefix):
        batch.append(line)
        if len(batch) == SLICE_LINES:
            yield b"".join(batch)
            batch = []
            await asyncio.sleep(0)  # the generator's own CPU must not hold this process's loop
    if batch:
        yield b"".join(batch)


async def upload(http: httpx.AsyncClient, access_token: str, rows: int, prefix: str) -> dict:
    response = await http.post(
        "/v1/uploads",
        content=body(rows, prefix),
        headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/x-ndjson"},
    )
    response.raise_for_status()
    job = response.json()
    assert job["status"] == "completed" and job["created"] == rows, job
    return job


# The prober: a process of its own, so the uploading client's work does not delay it.


async def probe(config: dict) -> dict:
    """Open loop: exposure queries and /healthz at `rate` each, Poisson arrivals, for
    `seconds`; latency counted from each request's scheduled time."""
    rng = random.Random(config["seed"])
    subjects = config["subjects"]
    headers = {"Authorization": f"Bearer {config['token']}", "Content-Type": "application/json"}
    latencies: dict[str, list[float]] = {"exposure": [], "healthz": []}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=config["base_url"], timeout=60, limits=limits) as http:
        # Warm the connections and the worker's token cache.
        await asyncio.gather(*(http.get("/healthz") for _ in range(16)))

        async def one(kind: str, scheduled: float) -> None:
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind == "exposure":
                content = orjson.dumps(
                    {"subjects": [rng.choice(subjects)], "purpose": "loan_application", "consent_ref": CONSENT_REF}
                )
                response = await http.post("/v1/exposure", content=content, headers=headers)
            else:
                response = await http.get("/healthz")
            if response.status_code != 200:
                errors.append(f"{kind} {response.status_code} {response.text[:200]}")
                return
            latencies[kind].append((time.perf_counter() - scheduled) * 1000)

        start = time.perf_counter() + 0.2
        tasks = []
        for kind in ("exposure", "healthz"):
            at = start
            while at < start + config["seconds"]:
                tasks.append(asyncio.create_task(one(kind, at)))
                at += rng.expovariate(config["rate"])
        await asyncio.gather(*tasks)
    return {"latencies_ms": latencies, "errors": errors}


async def run_probe(config: dict, work_dir: Path) -> dict:
    path = work_dir / f"probe-{secrets.token_hex(3)}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds an access token
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.ingest_interference",
            "--probe",
            str(path),
            cwd=bench_service.ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    finally:
        path.unlink(missing_ok=True)
    if process.returncode != 0:
        raise RuntimeError(f"the prober failed: {err.decode()[-2000:]}")
    return json.loads(out)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def row(name: str, values: list[float]) -> str:
    figures = "  ".join(
        f"{label} {percentile(values, p):7.1f}" for label, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
    )
    return f"{name:28} n {len(values):5}  {figures}  ms"


@dataclass
class Phase:
    name: str
    latencies_ms: dict[str, list[float]]
    errors: list[str]
    cores: dict[str, float]
    upload: str = ""  # how the phase's upload went, if it had one


async def probed(
    name: str,
    config: dict,
    workdir: Path,
    database: str,
    pids: list[int],
    upload_to: httpx.AsyncClient | None = None,
    upload_token: str = "",
    rows: int = 0,
    settle: float = 0.0,
) -> Phase:
    """One phase: the probes, alone or while an upload runs through `upload_to`."""
    ingest = None
    started = time.perf_counter()
    if upload_to is not None:
        ingest = asyncio.create_task(upload(upload_to, upload_token, rows, f"L{secrets.token_hex(3)}"))
        await asyncio.sleep(settle)  # past the job's creation: the worker is ingesting
    before = CpuSample.take(database, pids)
    result = await run_probe({**config, "seed": random.randrange(2**32)}, workdir)
    cores = CpuSample.take(database, pids).cores_since(before)
    phase = Phase(name, result["latencies_ms"], result["errors"], cores)
    if ingest is not None:
        probe_end = time.perf_counter() - started
        job = await ingest
        took = time.perf_counter() - started
        phase.upload = (
            f"{job['created']} rows in {took:.1f} s ({job['created'] / took:.0f} rows/s), "
            f"probed from {settle:.0f} s to {probe_end:.1f} s"
            + ("" if probe_end < took else "  (WARNING: the upload ended first; use more --rows)")
        )
    return phase


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-interference-"))
    embedded = None
    server_url = args.server_url
    if not server_url:
        from registry.core.embedded import socket_url, start_embedded

        embedded = start_embedded(workdir / "pg")
        server_url = socket_url(embedded, "postgres")
    services: list[bench_service.Service] = []
    try:
        url, clients = await prepare(server_url)
        database = urlsplit(url).path.lstrip("/")
        # The probed worker, and another one on the same database for the control phase.
        server_key = secrets.token_bytes(32)
        for name in ("probed", "other"):
            services.append(await asyncio.to_thread(serve, url, workdir / name, server_key))
        probed_service, other_service = services
        async with (
            httpx.AsyncClient(base_url=probed_service.base_url, timeout=600) as here,
            httpx.AsyncClient(base_url=other_service.base_url, timeout=600) as elsewhere,
        ):
            uploader, querier = await token(here, clients["UPLOADER"]), await token(here, clients["QUERIER"])
            uploader_elsewhere = await token(elsewhere, clients["UPLOADER"])  # each worker signs its own
            await upload(here, querier, SEED_ROWS, "SEED")
            subjects = [f"{n:064x}" for n in range(SEED_ROWS)]
            config = {
                "base_url": probed_service.base_url,
                "token": querier,
                "subjects": subjects,
                "rate": args.rate,
                "seconds": args.seconds,
            }
            pids = [probed_service.process.pid, other_service.process.pid]
            # Rounds of the three phases, so that a burst of other work on the machine lands in
            # one round's figures rather than in one phase's.
            rounds = []
            for _ in range(args.rounds):
                rounds.append(
                    [
                        await probed("idle", config, workdir, database, pids),
                        await probed(
                            "ingesting", config, workdir, database, pids, here, uploader, args.rows, args.settle
                        ),
                        await probed(
                            "other ingests",
                            config,
                            workdir,
                            database,
                            pids,
                            elsewhere,
                            uploader_elsewhere,
                            args.rows,
                            args.settle,
                        ),
                    ]
                )
    finally:
        for service in services:
            service.stop()
        if embedded is not None:
            embedded.cleanup()  # type: ignore[attr-defined]
        shutil.rmtree(workdir, ignore_errors=True)
    report(args, rounds)


def report(args: argparse.Namespace, rounds: list[list[Phase]]) -> None:
    print(
        f"probes at {args.rate:g}/s each (Poisson), {args.seconds:g} s per phase, {args.rows} upload rows; "
        "phases: idle; ingesting (the probed worker ingests an upload); other ingests (another worker on the "
        "same database does: the database and the machine are as busy, the probed event loop is not)"
    )
    ratios: dict[str, list[float]] = {"exposure": [], "healthz": [], "exposure own": [], "healthz own": []}
    for number, phases in enumerate(rounds, 1):
        print(f"round {number}")
        for phase in phases:
            if phase.upload:
                print(f"  upload, {phase.name}: {phase.upload}")
        for phase in phases:
            for kind in ("exposure", "healthz"):
                print("  " + row(f"{kind} {phase.name}", phase.latencies_ms[kind]))
            if phase.errors:
                print(f"    {len(phase.errors)} errors, first: {phase.errors[0]}")
        for phase in phases:
            print(
                f"  cores busy, {phase.name:14} "
                + "  ".join(f"{who} {value:.2f}" for who, value in phase.cores.items())
            )
        for kind in ("exposure", "healthz"):
            p99 = {phase.name: percentile(phase.latencies_ms[kind], 99) for phase in phases}
            ratios[kind].append(p99["ingesting"] / p99["idle"])
            ratios[f"{kind} own"].append(p99["ingesting"] / p99["other ingests"])
            print(
                f"  p99 {kind:8}: ingesting / idle {ratios[kind][-1]:5.2f}; "
                f"ingesting / other ingests {ratios[f'{kind} own'][-1]:5.2f}"
            )
    print("medians over the rounds")
    for kind in ("exposure", "healthz"):
        ratio, own = statistics.median(ratios[kind]), statistics.median(ratios[f"{kind} own"])
        print(
            f"p99 {kind:8}: ingesting / idle {ratio:5.2f} ({'meets' if ratio <= GOAL else 'misses'} the goal of "
            f"{GOAL:g}x); ingesting / other ingests {own:5.2f} (what the probed event loop itself adds)"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_interference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows of each upload (default 200,000)")
    parser.add_argument("--rate", type=float, default=10.0, help="exposure queries and health checks per second, each")
    parser.add_argument("--seconds", type=float, default=10.0, help="probed seconds per phase (default 10)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of upload before the probes start")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three phases (default 3)")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: run as the prober with this config
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.probe:
        print(json.dumps(asyncio.run(probe(json.loads(Path(arguments.probe).read_text())))))
    else:
        asyncio.run(main(arguments))
