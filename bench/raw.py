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
from registry.core.db import _init_connection
from registry.exposure import repository
from registry.exposure.schemas import Purpose

PURPOSE = Purpose.loan_application
CONSENT_REF = "BENCH-CONSENT-0001"


def querier(pool: asyncpg.Pool, client: BenchClient, keys: Sequence[bytes], *, batch_size: int, start: int) -> Query:
    """One worker's query: the next `batch_size` subjects of `keys`, asked as `client`'s member."""
    slices = Slices(keys, batch_size, start=start)
    details = {"purpose": PURPOSE.value, "consent_ref": CONSENT_REF, "subjects": batch_size}

    async def query(_: int) -> int:
        batch = list(slices.take())
        now = datetime.now(UTC)
        rows = await repository.query(
            pool,
            member_id=client.member.id,
            subject_keys=batch,
            purpose=PURPOSE.value,
            consent_ref=CONSENT_REF,
            hard=True,
            requires_own_record=False,
            now=now,
            today=now.date(),
            client_id=client.client_id,
            request_id=secrets.token_hex(8),
            audit_details=details,
            # The service's default quota, so the baseline does the same quota accounting.
            quota_per_minute=Settings().default_exposure_per_minute,
        )
        if len(rows) != len(batch) or not rows[0]["allowed"]:
            raise RuntimeError(f"{len(rows)} rows for {len(batch)} subjects")
        return len(rows)

    return query


async def run(url: str, clients: Sequence[BenchClient], keys: Sequence[bytes], *, name: str, batch_size: int,
              concurrency: int, duration: float, warmup: float, pool_size: int, database: str | None = None) -> Measurement:
    """`concurrency` workers, each querying as one member, over a pool of `pool_size` connections;
    with `database` (its name), the window's CPU use is accounted."""
    pool = await asyncpg.create_pool(url, min_size=pool_size, max_size=pool_size, init=_init_connection)

    def query_for(worker: int) -> Query:
        return querier(pool, clients[worker % len(clients)], keys, batch_size=batch_size,
                       start=worker * len(keys) // concurrency)

    try:
        return await run_phase(name, query_for, batch_size=batch_size, concurrency=concurrency,
                               duration=duration, warmup=warmup,
                               cpu=(lambda: CpuSample.take(database)) if database else None)
    finally:
        await pool.close()
