"""Staging a chunk for COPY hands the event loop back every few hundred rows: asyncpg given a
list encodes all of a chunk's rows without a pause, and the worker answers nothing meanwhile
(bench/ingest_interference.py measures what that costs the other requests)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date

from registry.uploads import repository
from registry.uploads.repository import PACE_ROWS, STAGING_COLUMNS

ROWS = 5000  # a chunk (registry/uploads/service.py CHUNK_LINES)


class HandedOut(list):
    """A chunk's rows that count how many have been handed out, however they are read."""

    handed = 0

    def __getitem__(self, index):
        value = super().__getitem__(index)
        self.handed += len(value) if isinstance(index, slice) else 1
        return value

    def __iter__(self):
        for row in super().__iter__():
            self.handed += 1
            yield row


def staging_row(n: int) -> tuple:
    values = {
        "account_ref": f"PACE-{n}",
        "subject_key": secrets.token_bytes(32),
        "subject_type": "individual",
        "product": "consumer_loan",
        "status": "current",
        "collection_stage": "none",
        "currency": "CNY",
        "principal_minor": 100_000,
        "outstanding_minor": 90_000,
        "overdue_minor": 0,
        "as_of": date(2026, 10, 31),
        "content_hash": secrets.token_bytes(32),
        "snapshot": "{}",
        "recovered_minor": 0,
        "arrangement": "none",
        "line_digest": secrets.token_bytes(16),
    }
    return tuple(values.get(column) for column in STAGING_COLUMNS)


async def test_the_loop_runs_between_slices_of_a_staged_chunk(pool):
    rows = HandedOut(staging_row(n) for n in range(ROWS))
    seen: set[int] = set()
    done = False

    async def watch() -> None:
        while not done:
            seen.add(rows.handed)
            await asyncio.sleep(0)

    async with pool.acquire() as conn, conn.transaction():
        await repository.ensure_staging(conn)
        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0)
        try:
            await repository.stage(conn, rows)
        finally:
            done = True
            await watcher
        assert await conn.fetchval("SELECT count(*) FROM upload_staging") == ROWS
    between = {n for n in seen if 0 < n < ROWS}
    # The loop ran after each slice but the last: it saw every multiple of PACE_ROWS below ROWS.
    assert set(range(PACE_ROWS, ROWS, PACE_ROWS)) <= between, sorted(between)
