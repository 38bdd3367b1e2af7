"""The benchmark's database: a fresh one on the chosen PostgreSQL server, migrated, with the
bench members and their API clients, and the data set loaded with COPY, then analyzed."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.dataset import (
    COLLATERAL_COLUMNS,
    EVENT_COLUMNS,
    INQUIRY_COLUMNS,
    PARTY_COLUMNS,
    RECORD_COLUMNS,
    Dataset,
    Member,
)
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor, for_work
from registry.auth.principal import Scope
from registry.core import migrate
from registry.core.db import Tx, asyncpg_dsn
from registry.core.errors import NotFound
from registry.members import service as members_service
from registry.members.schemas import ClientCreate, MemberCreate, MemberKind

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
LOADED_TABLES = ("records", "record_events", "inquiries", "record_parties", "record_collateral")
MEMBER_KINDS = (
    MemberKind.bank,
    MemberKind.consumer_finance,
    MemberKind.auto_finance,
    MemberKind.microcredit,
    MemberKind.leasing,
)


@dataclass
class Server:
    """Where the bench database lives: a maintenance URL on the server, and what it is."""

    url: str
    origin: str
    embedded: object | None = None

    def database_url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.url)._replace(path="/" + name))

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.cleanup()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class BenchClient:
    """A member's API client; its secret is only ever kept in memory and in the load generator's config."""

    member: Member
    client_id: str
    client_secret: str


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def choose_server(data_dir: Path) -> Server:
    """BENCH_DATABASE_URL's server, else the local server when it answers, else an embedded one."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured:
        return Server(asyncpg_dsn(configured), "BENCH_DATABASE_URL")
    if asyncio.run(_reachable(LOCAL_SERVER)):
        return Server(LOCAL_SERVER, "local server 127.0.0.1:5432")
    from registry.core.embedded import socket_url, start_embedded

    embedded = start_embedded(data_dir)
    return Server(socket_url(embedded, "postgres"), "embedded PostgreSQL", embedded)


async def recreate_database(server: Server, name: str) -> str:
    """Drop `name` if it exists, create it empty, and return its URL."""
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.database_url(name)


async def drop_database(server: Server, name: str) -> None:
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate_database(url: str) -> None:
    migrate.upgrade(url)


async def member_clients(url: str, count: int) -> list[BenchClient]:
    """Members BM000.. (created through the members service unless they exist), each with a
    fresh API client holding `exposure:read`."""
    conn = await asyncpg.connect(url)
    clients: list[BenchClient] = []
    try:
        async with conn.transaction():
            tx = Tx(conn)
            for n in range(count):
                code = f"BM{n:03d}"
                try:
                    member = await members_service.get_member_by_code(tx, code)
                except NotFound:
                    member = await members_service.create_member(
                        tx,
                        MemberCreate(code=code, name=f"Bench lender {n}", kind=MEMBER_KINDS[n % len(MEMBER_KINDS)]),
                        for_work(AuditAction.ADMIN_MEMBER_CREATE, Actor(None, "bench")),
                    )
                client = await members_service.create_client(
                    tx,
                    member.id,
                    ClientCreate(name="bench", scopes=[Scope.EXPOSURE_READ]),
                    for_work(AuditAction.ADMIN_CLIENT_CREATE, Actor(None, "bench")),
                )
                clients.append(BenchClient(Member(member.id, code), client.client_id, client.client_secret))
    finally:
        await conn.close()
    return clients


async def loaded_spec(server: Server, name: str) -> str | None:
    """The data set description stored on database `name` once loaded (None if absent)."""
    conn = await asyncpg.connect(server.url)
    try:
        return await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name
        )
    finally:
        await conn.close()


async def mark_loaded(url: str, description: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        name, text = await conn.fetchrow("SELECT quote_ident(current_database()), quote_literal($1::text)", description)
        await conn.execute(f"COMMENT ON DATABASE {name} IS {text}")
    finally:
        await conn.close()


@dataclass(frozen=True)
class LoadReport:
    records: int
    events: int
    inquiries: int
    seconds: float
    size_bytes: int


async def _secondary_indexes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """Indexes of the loaded tables that back no constraint: cheaper to build once after COPY."""
    rows = await conn.fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY i.indexname
        """,
        list(LOADED_TABLES),
    )
    return [(row["indexname"], row["indexdef"]) for row in rows]


async def load(url: str, dataset: Dataset, *, fresh: bool = True, progress=print) -> LoadReport:
    """COPY the data set in, one chunk of borrowers at a time, the next chunk generated in a
    thread while the previous one is copied (the client holds two chunks at most). Inquiries
    go to a temporary table first and into `inquiries` at the end in time order, as a
    registry appends them. Into a `fresh` database, the secondary indexes are dropped first
    and built once at the end, and everything is vacuumed and analyzed; otherwise (a shared test database)
    the rows are only copied."""
    started = time.perf_counter()
    # Two connections: one copies a chunk's records while the other copies the previous
    # chunk's events and inquiries (their records are in), and a thread generates the next
    # chunk. No JSON codec on them: snapshots are already JSON text.
    conn, events_conn = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        for c in (conn, events_conn):
            await c.execute("SET synchronous_commit = off")
        await events_conn.execute(
            f"CREATE TEMPORARY TABLE bench_inquiries AS SELECT {', '.join(INQUIRY_COLUMNS)} FROM inquiries WITH NO DATA"
        )
        indexes = await _secondary_indexes(conn) if fresh else []
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        chunks = dataset.chunks()
        records = events = inquiries = 0
        copying: asyncio.Task | None = None
        reported = 0.0

        async def copy_history(rows: list[tuple], asked: list[tuple]) -> None:
            await events_conn.copy_records_to_table("record_events", records=rows, columns=EVENT_COLUMNS)
            await events_conn.copy_records_to_table("bench_inquiries", records=asked, columns=INQUIRY_COLUMNS)

        chunk = await asyncio.to_thread(next, chunks, None)
        while chunk is not None:
            upcoming = asyncio.create_task(asyncio.to_thread(next, chunks, None))
            await conn.copy_records_to_table("records", records=chunk[0], columns=RECORD_COLUMNS)
            await conn.copy_records_to_table("record_parties", records=chunk[3], columns=PARTY_COLUMNS)
            await conn.copy_records_to_table("record_collateral", records=chunk[4], columns=COLLATERAL_COLUMNS)
            if copying is not None:
                await copying
            copying = asyncio.create_task(copy_history(chunk[1], chunk[2]))
            records, events, inquiries = records + len(chunk[0]), events + len(chunk[1]), inquiries + len(chunk[2])
            if time.perf_counter() - reported > 10:
                reported = time.perf_counter()
                progress(f"  {records:,} records, {events:,} events, {inquiries:,} inquiries")
            chunk = None  # let it go before the next one arrives
            chunk = await upcoming
        if copying is not None:
            await copying
        progress(f"  {records:,} records, {events:,} events; {inquiries:,} inquiries into place in time order")
        await events_conn.execute(
            f"INSERT INTO inquiries ({', '.join(INQUIRY_COLUMNS)}) "
            f"SELECT {', '.join(INQUIRY_COLUMNS)} FROM bench_inquiries ORDER BY at"
        )
        await events_conn.execute("DROP TABLE bench_inquiries")
        progress("  building indexes, vacuuming and analyzing")
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            await conn.execute(definition)
        if fresh:
            # As autovacuum leaves a table in service: hint bits set and the visibility map
            # built, so the first side to read a row does not pay for it (bench.exposure).
            await conn.execute("VACUUM (ANALYZE)")
        size = await conn.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await conn.close()
        await events_conn.close()
    return LoadReport(records, events, inquiries, time.perf_counter() - started, size)


async def pledged(url: str, vehicle_keys: list[bytes]) -> int:
    """How many of the vehicles back at least one account in the database."""
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(DISTINCT vehicle_key) FROM record_collateral WHERE vehicle_key = ANY($1::bytea[])",
            vehicle_keys,
        )
    finally:
        await conn.close()
