"""Does an upload slow down the other requests of the worker that reads it? (issue 18, 6)

One real `registry serve` worker on a fresh database. A prober process sends single-subject
exposure queries and GET /healthz at a fixed Poisson arrival rate (open loop, so queueing
behind a held event loop is not hidden), first while the worker is idle, then while the
same worker ingests a large NDJSON upload from this process, then idle again (how far the
machine's other work moved the baseline). Prints p50/p95/p99/max of each phase, the ratio of
the p99s (ingesting / first idle) against the goal (within 2x), and where the cores went.

    python -m bench.ingest_interference                  # 400,000 upload rows, 50 queries/s
    python -m bench.ingest_interference --rows 1000000 --rate 100 --seconds 30

`--server-url` names a PostgreSQL maintenance URL; without it an embedded server is started
in a temporary directory. docs/uploads.md has the figures."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

from bench import service as bench_service
from bench.cpu import CpuSample
from bench.uploads import SLICE_LINES, lines
from registry.auth.principal import Scope
from registry.core import migrate
from registry.core.db import Tx, _init_connection
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
    await _init_connection(conn)
    clients = {}
    try:
        async with conn.transaction():
            tx = Tx(conn)
            for code, scopes in (("UPLOADER", [Scope.RECORDS_WRITE]),
                                 ("QUERIER", [Scope.RECORDS_WRITE, Scope.EXPOSURE_READ])):
                member = await members_service.create_member(tx, MemberCreate(code=code, name=code, kind=MemberKind.bank))
                client = await members_service.create_client(tx, member.id, ClientCreate(name="bench", scopes=scopes))
                clients[code] = (client.client_id, client.client_secret)
    finally:
        await conn.close()
    return url, clients


def serve(url: str, data_dir: Path) -> bench_service.Service:
    """`registry serve` with one worker (uvicorn runs it in the server process itself)."""
    port = bench_service.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=url, REGISTRY_SERVER_KEY=secrets.token_bytes(32).hex(),
               REGISTRY_DATA_DIR=str(data_dir), REGISTRY_ACCESS_TOKEN_TTL_SECONDS="3600",
               REGISTRY_LOG_LEVEL="WARNING")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
            env=env, cwd=bench_service.ROOT, stdout=log, stderr=subprocess.STDOUT,
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
        "/v1/uploads", content=body(rows, prefix),
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
                content = orjson.dumps({"subjects": [rng.choice(subjects)], "purpose": "loan_application",
                                        "consent_ref": CONSENT_REF})
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
            sys.executable, "-m", "bench.ingest_interference", "--probe", str(path),
            cwd=bench_service.ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
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
    figures = "  ".join(f"{label} {percentile(values, p):7.1f}" for label, p in
                        (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)))
    return f"{name:28} n {len(values):5}  {figures}  ms"


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-interference-"))
    embedded = None
    server_url = args.server_url
    if not server_url:
        from registry.core.embedded import socket_url, start_embedded

        embedded = start_embedded(workdir / "pg")
        server_url = socket_url(embedded, "postgres")
    service = None
    try:
        url, clients = await prepare(server_url)
        database = urlsplit(url).path.lstrip("/")
        service = await asyncio.to_thread(serve, url, workdir / "data")
        async with httpx.AsyncClient(base_url=service.base_url, timeout=600) as http:
            uploader, querier = await token(http, clients["UPLOADER"]), await token(http, clients["QUERIER"])
            await upload(http, querier, SEED_ROWS, "SEED")
            subjects = [f"{n:064x}" for n in range(SEED_ROWS)]
            config = {"base_url": service.base_url, "token": querier, "subjects": subjects, "rate": args.rate,
                      "seconds": args.seconds}
            pids = [service.process.pid]

            before = CpuSample.take(database, pids)
            idle = await run_probe({**config, "seed": 1}, workdir)
            idle_cores = CpuSample.take(database, pids).cores_since(before)

            started = time.perf_counter()
            ingest = asyncio.create_task(upload(http, uploader, args.rows, "LOAD"))
            await asyncio.sleep(args.settle)  # past the job's creation: the worker is ingesting
            before = CpuSample.take(database, pids)
            loaded = await run_probe({**config, "seed": 2}, workdir)
            loaded_cores = CpuSample.take(database, pids).cores_since(before)
            probe_end = time.perf_counter() - started
            job = await ingest
            upload_seconds = time.perf_counter() - started

            # Idle again: how much the machine's other work moved the baseline meanwhile.
            before = CpuSample.take(database, pids)
            after = await run_probe({**config, "seed": 3}, workdir)
            after_cores = CpuSample.take(database, pids).cores_since(before)
    finally:
        if service is not None:
            service.stop()
        if embedded is not None:
            embedded.cleanup()  # type: ignore[attr-defined]

    print(f"one worker; probes at {args.rate}/s each (Poisson), {args.seconds:.0f} s per phase")
    print(f"upload: {job['created']} rows in {upload_seconds:.1f} s ({job['created'] / upload_seconds:.0f} rows/s); "
          f"probed from {args.settle:.0f} s to {probe_end:.1f} s"
          + ("" if probe_end < upload_seconds else "  (WARNING: the upload ended before the probes; use more --rows)"))
    phases = (("idle", idle, idle_cores), ("ingesting", loaded, loaded_cores), ("idle after", after, after_cores))
    for name, result, _ in phases:
        for kind in ("exposure", "healthz"):
            print(row(f"{kind} {name}", result["latencies_ms"][kind]))
        if result["errors"]:
            print(f"  {len(result['errors'])} errors, first: {result['errors'][0]}")
    for kind in ("exposure", "healthz"):
        ratio = percentile(loaded["latencies_ms"][kind], 99) / percentile(idle["latencies_ms"][kind], 99)
        verdict = "meets" if ratio <= GOAL else "misses"
        print(f"p99 ingesting / idle, {kind:9} {ratio:5.2f}  ({verdict} the goal of {GOAL:.0f}x)")
    for name, _, cores in phases:
        print(f"cores busy, {name:10} " + "  ".join(f"{who} {value:.2f}" for who, value in cores.items()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_interference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400_000, help="rows of the upload (default 400,000)")
    parser.add_argument("--rate", type=float, default=50.0, help="exposure queries and health checks per second, each")
    parser.add_argument("--seconds", type=float, default=15.0, help="probed seconds per phase (default 15)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of upload before the probes start")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: run as the prober with this config
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.probe:
        print(json.dumps(asyncio.run(probe(json.loads(Path(arguments.probe).read_text())))))
    else:
        asyncio.run(main(arguments))
