"""The asyncpg baseline: the database work of an exposure query, done with plain asyncpg. It
calls the service's own repository function (`registry.exposure.repository.query`: the one
statement that aggregates, writes the inquiry rows and the audit row) with the parameters
the service would pass, proven like the service's (registry.core.tenancy), through a pool
logged in as the service's request login: no HTTP, FastAPI, auth, keying or JSON. Like the
service, it reads its settings once (the caller passes the role and the quota), not per query."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncpg

from bench.cpu import CpuSample
from bench.database import BenchClient
from bench.measure import Measurement, Query, QueryPlan, run_phase
from registry.core.db import init_connection, with_user
from registry.core.tenancy import ContextProver, Member, Tenancy
from registry.exposure import repository
from registry.exposure.repository import SubjectRow
from registry.exposure.schemas import Purpose

PURPOSE = Purpose.loan_application
CONSENT_REF = "BENCH-CONSENT-0001"


def audit_details(batch_size: int) -> dict:
    """What the service writes into the audit row of a `loan_application` query."""
    return {"purpose": PURPOSE.value, "consent_ref": CONSENT_REF, "subjects": batch_size}


def vehicle_audit_details(batch_size: int) -> dict:
    """What the service writes into the audit row of a `loan_application` vehicle check."""
    return {"purpose": PURPOSE.value, "consent_ref": CONSENT_REF, "vehicles": batch_size}


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def prover_of(url: str) -> ContextProver:
    """The service's context prover, its key read with the service's own (owning) login `url`."""
    conn = await asyncpg.connect(url)
    try:
        return ContextProver(bytes(await conn.fetchval("SELECT key FROM registry_context_key")))
    finally:
        await conn.close()


async def call(
    pool: asyncpg.Pool,
    prover: ContextProver,
    client: BenchClient,
    keys: list[bytes],
    *,
    quota_per_minute: int,
    now: datetime,
    request_id: str | None = None,
) -> list[SubjectRow]:
    """One exposure call about `keys` as `client`'s member, with the parameters the service passes."""
    return await repository.query(
        pool,
        Tenancy(prover, Member(client.member.id), client.client_id),
        subject_keys=keys,
        purpose=PURPOSE.value,
        consent_ref=CONSENT_REF,
        hard=True,
        requires_own_record=False,
        now=now,
        audit=(client.member.id, client.client_id, request_id or secrets.token_hex(8), audit_details(len(keys))),
        quota_per_minute=quota_per_minute,
    )


def querier(
    pool: asyncpg.Pool,
    prover: ContextProver,
    clients: Sequence[BenchClient],
    keys: Sequence[bytes],
    plan: QueryPlan,
    *,
    quota_per_minute: int,
    clock: Callable[[], datetime] = _utc_now,
) -> Query:
    """Query number k of `plan`: its slice of `keys`, asked as its member's client."""

    async def query(k: int) -> int:
        start, end = plan.bounds(k)
        batch = list(keys[start:end])
        rows = await call(pool, prover, clients[plan.member(k)], batch, quota_per_minute=quota_per_minute, now=clock())
        if len(rows) != len(batch) or not rows[0].allowed:
            raise RuntimeError(f"{len(rows)} rows for {len(batch)} subjects, allowed: {rows and rows[0].allowed}")
        return len(rows)

    return query


async def run(
    url: str,
    clients: Sequence[BenchClient],
    keys: Sequence[bytes],
    plan: QueryPlan,
    *,
    name: str,
    concurrency: int,
    duration: float,
    warmup: float,
    pool_size: int,
    role: str | None,
    quota_per_minute: int,
    database: str | None = None,
    postmaster: int | None = None,
) -> Measurement:
    """`concurrency` workers over a pool of `pool_size` connections logged in as `role` (the
    service's request login); with `database` (its name), the window's CPU use is accounted."""
    prover = await prover_of(url)
    pool = await asyncpg.create_pool(
        with_user(url, role or "registry_app"), min_size=pool_size, max_size=pool_size, init=init_connection
    )
    query = querier(pool, prover, clients, keys, plan, quota_per_minute=quota_per_minute)
    try:
        return await run_phase(
            name,
            lambda _: query,
            batch_size=plan.batch_size,
            concurrency=concurrency,
            duration=duration,
            warmup=warmup,
            cpu=(lambda: CpuSample.take(database, postmaster=postmaster)) if database else None,
        )
    finally:
        await pool.close()
