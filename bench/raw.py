"""The raw baseline: the database work of an exposure query, done with plain asyncpg. It
calls the service's own repository function (`registry.exposure.repository.query`: the one
statement that aggregates, writes the inquiry rows and the audit row) with the parameters
the service would pass, through a pool: no HTTP, FastAPI, auth, keying or JSON."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from bench.cpu import CpuSample
from bench.database import BenchClient
from bench.measure import Measurement, Query, Slices, run_phase
from registry.config import Settings
from registry.core.db import init_connection, with_user
from registry.core.tenancy import ContextProver, Member, Tenancy
from registry.exposure import repository
from registry.exposure.schemas import Purpose

PURPOSE = Purpose.loan_application
CONSENT_REF = "BENCH-CONSENT-0001"


def querier(pool: asyncpg.Pool, prover: ContextProver, client: BenchClient, keys: Sequence[bytes], *,
            batch_size: int, start: int) -> Query:
    """One worker's query: the next `batch_size` subjects of `keys`, asked as `client`'s member."""
    slices = Slices(keys, batch_size, start=start)
    details = {"purpose": PURPOSE.value, "consent_ref": CONSENT_REF, "subjects": batch_size}
    tenancy = Tenancy(prover, Member(client.member.id), client.client_id)
    # The service's default quota, so the baseline does the same quota accounting.
    quota = Settings().default_exposure_per_minute

    async def query(_: int) -> int:
        batch = list(slices.take())
        now = datetime.now(UTC)
        rows = await repository.query(
            pool,
            tenancy,
            subject_keys=batch,
            purpose=PURPOSE.value,
            consent_ref=CONSENT_REF,
            hard=True,
            requires_own_record=False,
            now=now,
            audit=(client.member.id, client.client_id, secrets.token_hex(8), details),
            quota_per_minute=quota,
        )
        if len(rows) != len(batch) or not rows[0].allowed:
            raise RuntimeError(f"{len(rows)} rows for {len(batch)} subjects")
        return len(rows)

    return query


async def run(url: str, clients: Sequence[BenchClient], keys: Sequence[bytes], *, name: str, batch_size: int,
              concurrency: int, duration: float, warmup: float, pool_size: int, database: str | None = None) -> Measurement:
    """`concurrency` workers, each querying as one member, over a pool of `pool_size` connections;
    with `database` (its name), the window's CPU use is accounted."""
    conn = await asyncpg.connect(url)
    try:
        prover = ContextProver(bytes(await conn.fetchval("SELECT key FROM registry_context_key")))
    finally:
        await conn.close()
    # The service's request login, as the service's own pool logs in.
    pool = await asyncpg.create_pool(with_user(url, "registry_app"), min_size=pool_size, max_size=pool_size,
                                     init=init_connection)

    def query_for(worker: int) -> Query:
        return querier(pool, prover, clients[worker % len(clients)], keys, batch_size=batch_size,
                       start=worker * len(keys) // concurrency)

    try:
        return await run_phase(name, query_for, batch_size=batch_size, concurrency=concurrency,
                               duration=duration, warmup=warmup,
                               cpu=(lambda: CpuSample.take(database)) if database else None)
    finally:
        await pool.close()
