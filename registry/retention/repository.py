"""SQL of retention: the purge itself and the once-a-day guard. The audit log is never touched."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

# Expired exactly when exposure stops answering: `expires_on <= today`.
PURGE = """
WITH expired AS (
    SELECT id FROM records WHERE expires_on <= $1 FOR UPDATE
), events AS (
    DELETE FROM record_events e USING expired x WHERE e.record_id = x.id RETURNING 1
), records_deleted AS (
    DELETE FROM records r USING expired x WHERE r.id = x.id RETURNING 1
), inquiries_deleted AS (
    DELETE FROM inquiries WHERE at < $2 RETURNING 1
)
SELECT (SELECT count(*) FROM records_deleted) AS records,
       (SELECT count(*) FROM events) AS record_events,
       (SELECT count(*) FROM inquiries_deleted) AS inquiries
"""


async def purge(conn: asyncpg.Connection, today: date, inquiries_before: datetime) -> dict[str, int]:
    row = await conn.fetchrow(PURGE, today, inquiries_before)
    return {"records": row["records"], "record_events": row["record_events"], "inquiries": row["inquiries"]}


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    """A transaction-scoped advisory lock: one retention pass at a time across instances."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))


async def ran_on(conn: asyncpg.Connection, day: date) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = 'retention.run' AND outcome = 200 AND details->>'day' = $1)",
        day.isoformat(),
    ))
