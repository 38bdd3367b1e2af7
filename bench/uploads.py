"""Bulk upload benchmark: the same generated rows loaded twice, each time into a fresh
database (so neither side inserts into the other's indexes), after a checkpoint (so neither
pays for the other's dirty pages): once as raw COPY into staging + the records upsert with
plain asyncpg (the floor: the database's own work, under the service's role and row-level
security), once as an NDJSON file streamed over HTTP to a real `registry serve` process.
Prints rows/s of both, their ratio, the service's peak RSS, and the CPU each party used;
then uploads the same file to the service again (every line `unchanged`, as most lines of
a monthly file are) and prints its time against the fresh load's.

    python -m bench.uploads --rows 1000000

`--server-url` names a PostgreSQL maintenance URL; without it an embedded server is
started in a temporary directory. See docs/uploads.md for the figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

from bench.cpu import CpuSample
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor, for_work
from registry.auth.principal import Scope
from registry.config import Settings
from registry.core import migrate
from registry.core.db import Tx, init_connection, with_user
from registry.core.tenancy import ContextProver, Member
from registry.members import service as members_service
from registry.members.schemas import ClientCreate, MemberCreate, MemberKind
from registry.records.validation import ValidItem, validate_item
from registry.uploads import line_digests
from registry.uploads import repository as uploads_repository
from registry.uploads.service import CHUNK_LINES

TODAY = date(2026, 11, 30)
SLICE_LINES = 1000


def _templates() -> list[bytes]:
    base = {
        "subject": "S" * 64,
        "subject_type": "individual",
        "account_ref": "REF",
        "product": "consumer_loan",
        "status": "current",
        "currency": "CNY",
        "principal_amount": "10000.00",
        "outstanding_amount": "8000.00",
        "overdue_amount": "0",
        "opened_on": "2024-01-10",
        "as_of": "2026-10-31",
    }
    late = {
        **base,
        "status": "dpd_31_60",
        "overdue_amount": "640.00",
        "delinquent_since": "2026-09-01",
        "notice_sent_on": "2026-09-15",
        "collection_stage": "reminder",
        "product": "auto_loan",
    }
    return [orjson.dumps(base)] * 4 + [orjson.dumps(late)]


def lines(rows: int, prefix: str) -> Iterator[bytes]:
    """`rows` NDJSON lines, one in five delinquent, each its own account and borrower."""
    templates = _templates()
    for n in range(rows):
        template = templates[n % len(templates)]
        yield (
            template.replace(b"S" * 64, f"{n:064x}".encode()).replace(b'"REF"', f'"{prefix}-{n:09d}"'.encode()) + b"\n"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def prepare(server_url: str, code: str) -> tuple[str, tuple[object, str, str]]:
    """A fresh migrated database with one member (and its API client); returns its URL and
    (member id, client id, client secret)."""
    name = f"bench_uploads_{code.lower()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    await asyncio.to_thread(migrate.upgrade, url)
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        async with conn.transaction():
            tx = Tx(conn)
            member = await members_service.create_member(
                tx,
                MemberCreate(code=f"BENCH{code}", name=code, kind=MemberKind.bank),
                for_work(AuditAction.ADMIN_MEMBER_CREATE, Actor(None, "bench")),
            )
            client = await members_service.create_client(
                tx,
                member.id,
                ClientCreate(name="bench", scopes=[Scope.RECORDS_WRITE]),
                for_work(AuditAction.ADMIN_CLIENT_CREATE, Actor(None, "bench")),
            )
    finally:
        await conn.close()
    return url, (member.id, client.client_id, client.client_secret)


async def drop_databases(server_url: str, urls: list[str]) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        for url in urls:
            await conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')
    finally:
        await conn.close()


async def checkpoint(server_url: str) -> None:
    """Write out the dirty pages of the previous phase before the next one starts."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def raw_load(url: str, member_id: object, rows: int) -> tuple[float, float, float]:
    """Seconds the database spends on COPY + upsert of `rows`, chunk by chunk (validation,
    done beforehand for each chunk, is not counted), the CPU seconds of its backend, and the
    average cores the rest of the machine used meanwhile (the noise)."""
    database = urlsplit(url).path.lstrip("/")
    owner = await asyncpg.connect(url)
    try:
        prover = ContextProver(bytes(await owner.fetchval("SELECT key FROM registry_context_key")))
    finally:
        await owner.close()
    conn = await asyncpg.connect(with_user(url, Settings().database_role or "registry_app"))
    await init_connection(conn)
    tenant = Member(member_id)  # type: ignore[arg-type]
    await uploads_repository.ensure_staging(conn)
    key = secrets.token_bytes(32)
    spent = 0.0
    line_key = line_digests.line_key(key, None)
    chunk: list[tuple[ValidItem, bytes]] = []

    async def write(items: list[tuple[ValidItem, bytes]]) -> float:
        staged = [uploads_repository.staging_row(v, line_digests.line_digest(line_key, line)) for v, line in items]
        started = time.perf_counter()
        async with conn.transaction():
            await prover.enter(conn, tenant, "bench")
            await uploads_repository.stage(conn, staged)
            await uploads_repository.upsert_staged(conn, tenant)
        return time.perf_counter() - started

    before = CpuSample.take(database)
    try:
        for number, line in enumerate(lines(rows, "RAW"), 1):
            checked = validate_item(number, orjson.loads(line), key, TODAY)
            assert isinstance(checked, ValidItem), checked
            chunk.append((checked, line))
            if len(chunk) == CHUNK_LINES:
                spent += await write(chunk)
                chunk = []
        if chunk:
            spent += await write(chunk)
        after = CpuSample.take(database)
    finally:
        await conn.close()
    return spent, _cpu_seconds(before, after)["postgres"], after.cores_since(before)["other"]


def _cpu_seconds(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds used between two samples, by who used them."""
    wall = after.wall - before.wall
    return {name: cores * wall for name, cores in after.cores_since(before).items()}


async def service_load(
    url: str, client_id: str, secret: str, rows: int, data_dir: Path, passes: int = 2
) -> tuple[list[tuple[float, dict, dict[str, float]]], int]:
    """Upload `rows` as NDJSON over HTTP `passes` times (the first a fresh load, the next ones
    re-uploads of the very same lines, all `unchanged`): for each, the seconds, the job and
    the CPU seconds used meanwhile by the client, the service, PostgreSQL and the rest; and
    the server's peak RSS (bytes)."""
    results: list[tuple[float, dict, dict[str, float]]] = []
    database = urlsplit(url).path.lstrip("/")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=url, REGISTRY_DATA_DIR=str(data_dir), REGISTRY_LOG_LEVEL="WARNING")
    # Started once, before anything is measured (Popen does not wait).
    proc = subprocess.Popen([sys.executable, "-m", "registry", "serve", "--port", str(port), "--no-migrate"], env=env)  # noqa: ASYNC220
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)

            async def fresh_token() -> str:
                # One per pass: a pass at 10M rows outlasts an access token's lifetime.
                answer = await client.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
                )
                return answer.json()["access_token"]

            async def body() -> AsyncIterator[bytes]:
                batch: list[bytes] = []
                for line in lines(rows, "SVC"):
                    batch.append(line)
                    if len(batch) == SLICE_LINES:
                        yield b"".join(batch)
                        batch = []
                if batch:
                    yield b"".join(batch)

            for number in range(passes):
                token = await fresh_token()
                before = CpuSample.take(database, [proc.pid])
                started = time.perf_counter()
                response = await client.post(
                    "/v1/uploads",
                    content=body(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
                )
                elapsed = time.perf_counter() - started
                cpu = _cpu_seconds(before, CpuSample.take(database, [proc.pid]))
                response.raise_for_status()
                results.append((elapsed, response.json(), cpu))
                # Said at once: a later pass that fails must not take this one's figures with it.
                print(f"pass {number + 1}: {elapsed:.1f} s, CPU s " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))
        return results, _peak_rss(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--server-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument(
        "--no-reupload", action="store_true", help="skip the second upload of the same file (all lines unchanged)"
    )
    parser.add_argument(
        "--no-raw", action="store_true", help="skip the raw COPY + upsert baseline (the service's passes alone)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    embedded = None
    server_url = args.server_url
    if not server_url:
        from registry.core.embedded import socket_url, start_embedded

        embedded = start_embedded(workdir / "pg")
        server_url = socket_url(embedded, "postgres")
    made: list[str] = []
    try:
        if not args.no_raw:
            raw_url, (raw_id, _, _) = await prepare(server_url, "RAW")
            made.append(raw_url)
        svc_url, (_, svc_client, svc_secret) = await prepare(server_url, "SVC")
        made.append(svc_url)
        await checkpoint(server_url)
        raw = None if args.no_raw else await raw_load(raw_url, raw_id, args.rows)
        await checkpoint(server_url)
        passes, peak = await service_load(
            svc_url, svc_client, svc_secret, args.rows, workdir / "data", passes=1 if args.no_reupload else 2
        )
    finally:
        if embedded is not None:
            embedded.cleanup()  # type: ignore[attr-defined]
        else:  # a shared server keeps nothing of the run (a million rows are over 1 GiB a side)
            await drop_databases(server_url, made)
        # Nor does the disk: the embedded server's data and the generated file (14 GiB at 10M).
        shutil.rmtree(workdir, ignore_errors=True)
    (svc_seconds, job, cpu), *again = passes
    assert job["status"] == "completed" and job["created"] == args.rows, job
    for _, reupload, _ in again:
        assert reupload["status"] == "completed" and reupload["unchanged"] == args.rows, reupload
    svc_rate = args.rows / svc_seconds
    print(f"rows                     {args.rows}")
    if raw is not None:
        raw_seconds, raw_postgres, raw_other = raw
        raw_rate = args.rows / raw_seconds
        print(f"raw COPY + upsert        {raw_seconds:8.1f} s  {raw_rate:10.0f} rows/s")
    print(f"service upload (HTTP)    {svc_seconds:8.1f} s  {svc_rate:10.0f} rows/s")
    if raw is not None:
        print(f"ratio service / raw      {svc_rate / raw_rate:8.2f}")
        print(f"other cores (the rest)   raw {raw_other:.2f}")
    print(f"other cores (the rest)   service upload {cpu['other'] / svc_seconds:.2f}")
    print(f"service peak RSS         {peak / 2**20:8.0f} MB")
    per_row = {name: seconds / args.rows * 1e6 for name, seconds in cpu.items()}
    if raw is not None:
        print(f"CPU µs/row, raw          postgres {raw_postgres / args.rows * 1e6:.0f}")
    print("CPU µs/row, service run  " + "  ".join(f"{name} {value:.0f}" for name, value in per_row.items()))
    for seconds, _, reupload_cpu in again:
        print(f"re-upload, all unchanged {seconds:8.1f} s  {args.rows / seconds:10.0f} rows/s")
        print(f"re-upload / fresh load   {seconds / svc_seconds:8.2f} of the time (goal <= 0.5)")
        print(f"other cores (the rest)   re-upload {reupload_cpu['other'] / seconds:.2f}")
        reupload_per_row = {name: value / args.rows * 1e6 for name, value in reupload_cpu.items()}
        print("CPU µs/row, re-upload    " + "  ".join(f"{n} {v:.0f}" for n, v in reupload_per_row.items()))


if __name__ == "__main__":
    asyncio.run(main())
