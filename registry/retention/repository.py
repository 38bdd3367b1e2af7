"""SQL of retention: the purge itself and the once-a-day guard. The audit log is never touched."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

# Expired exactly when exposure stops answering: `expires_on <= today`. Deliveries go before
# the alerts they carry (a delivery of a purged alert goes with it, whatever its age).
PURGE = """
WITH expired AS (
    SELECT id FROM records WHERE expires_on <= $1 FOR UPDATE
), events AS (
    DELETE FROM record_events e USING expired x WHERE e.record_id = x.id RETURNING 1
), records_deleted AS (
    DELETE FROM records r USING expired x WHERE r.id = x.id RETURNING 1
), inquiries_deleted AS (
    DELETE FROM inquiries WHERE at < $2 RETURNING 1
), deliveries_deleted AS (
    DELETE FROM webhook_deliveries
    WHERE (status <> 'pending' AND created_at < $4) OR alert_id IN (SELECT id FROM alerts WHERE at < $3)
    RETURNING 1
), alerts_deleted AS (
    DELETE FROM alerts WHERE at < $3 RETURNING 1
)
SELECT (SELECT count(*) FROM records_deleted) AS records,
       (SELECT count(*) FROM events) AS record_events,
       (SELECT count(*) FROM inquiries_deleted) AS inquiries,
       (SELECT count(*) FROM alerts_deleted) AS alerts,
       (SELECT count(*) FROM deliveries_deleted) AS webhook_deliveries
"""


async def purge(
    conn: asyncpg.Connection,
    today: date,
    *,
    inquiries_before: datetime,
    alerts_before: datetime,
    webhook_deliveries_before: datetime,
) -> dict[str, int]:
    row = await conn.fetchrow(PURGE, today, inquiries_before, alerts_before, webhook_deliveries_before)
    return dict(row)


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    """A transaction-scoped advisory lock: one retention pass at a time across instances."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))


async def ran_on(conn: asyncpg.Connection, day: date) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM audit_log "
            "WHERE action = 'retention.run' AND outcome = 200 AND details->>'day' = $1)",
            day.isoformat(),
        )
    )
