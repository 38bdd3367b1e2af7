"""SQL of monitoring: watches, raising alerts (batched, in the caller's transaction, with
their outbox rows), the exactly-once alert feed, webhook endpoints and the delivery outbox.

A watch is in force only while its member holds a live record (not withdrawn, not expired)
on the subject: every query that uses watches joins on that, so a watch ends by itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

from registry.records.vocabulary import DELINQUENT_SEVERITY

D = DELINQUENT_SEVERITY


def watcher_holds_live_record(watch: str, today: str) -> str:
    """SQL condition: the member of watch row `watch` holds a live record on its subject."""
    return f"""EXISTS (
        SELECT 1 FROM records watcher_record
        WHERE watcher_record.subject_key = {watch}.subject_key AND watcher_record.member_id = {watch}.member_id
          AND watcher_record.withdrawn_at IS NULL AND (watcher_record.expires_on IS NULL OR watcher_record.expires_on > {today})
    )"""


# --- watches -----------------------------------------------------------------------------

ADD_WATCHES = f"""
WITH input AS (
    SELECT * FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS t(subject_key, subject_sealed, ord)
),
checked AS (
    SELECT i.*, {watcher_holds_live_record('w', '$5')} AS held
    FROM input i CROSS JOIN LATERAL (SELECT $1::uuid AS member_id, i.subject_key) w
),
written AS (
    INSERT INTO watches AS w (member_id, subject_key, subject_sealed, label)
    SELECT $1, c.subject_key, c.subject_sealed, $4 FROM checked c
    WHERE (SELECT bool_and(held) FROM checked)
    ON CONFLICT (member_id, subject_key) DO UPDATE SET label = coalesce(EXCLUDED.label, w.label)
    RETURNING w.subject_key, (w.xmax = 0) AS created
)
SELECT c.ord, c.held, wr.created FROM checked c LEFT JOIN written wr USING (subject_key) ORDER BY c.ord
"""


async def add_watches(
    conn: asyncpg.Connection, member_id: uuid.UUID, subject_keys: list[bytes], sealed: list[bytes],
    label: str | None, today: date,
) -> list[asyncpg.Record]:
    """Watch every subject, or none when any lacks a live record of the member."""
    return await conn.fetch(ADD_WATCHES, member_id, subject_keys, sealed, label, today)


async def list_watches(
    conn: asyncpg.Connection, member_id: uuid.UUID, *, after_id: int, limit: int, today: date
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT w.id, w.subject_key, w.subject_sealed, w.label, w.created_at FROM watches w
        WHERE w.member_id = $1 AND w.id > $2 AND {watcher_holds_live_record('w', '$4')}
        ORDER BY w.id LIMIT $3
        """,
        member_id, after_id, limit, today,
    )


async def delete_watch(conn: asyncpg.Connection, member_id: uuid.UUID, subject_key: bytes) -> bool:
    row = await conn.fetchrow(
        "DELETE FROM watches WHERE member_id = $1 AND subject_key = $2 RETURNING 1", member_id, subject_key
    )
    return row is not None


async def end_watches_without_live_record(
    conn: asyncpg.Connection, member_id: uuid.UUID, record_ids: Sequence[uuid.UUID], today: date | None
) -> None:
    """After records were withdrawn: drop the member's watches on their subjects that no
    longer have a live record of the member behind them."""
    await conn.execute(
        f"""
        DELETE FROM watches w USING records r
        WHERE r.id = ANY($2::uuid[]) AND r.member_id = $1
          AND w.member_id = $1 AND w.subject_key = r.subject_key
          AND NOT {watcher_holds_live_record('w', 'coalesce($3::date, current_date)')}
        """,
        member_id, list(record_ids), today,
    )


# --- raising alerts ----------------------------------------------------------------------

def alert_outbox_cte(name: str, alerts: str, at: str = "now()") -> str:
    """CTE queueing one webhook delivery per new alert (from CTE `alerts` returning id and
    member_id) for the members that have a webhook: the transactional outbox."""
    return f"""{name} AS (
    INSERT INTO webhook_deliveries (member_id, alert_id, event, next_attempt_at, created_at)
    SELECT a.member_id, a.id, 'alert', {at}, {at}
    FROM {alerts} a JOIN webhooks h ON h.member_id = a.member_id
)"""


# The previous severity of a changed record is that of its previous event; a record that was
# withdrawn before (or is new) had none. One alert per watcher and subject per statement,
# carrying the worst status the reporter's changed records now have.
DELINQUENCY_ALERTS = f"""
WITH changed AS (
    SELECT r.subject_key, r.status, r.severity, prev.severity AS previous_severity
    FROM records r
    LEFT JOIN record_events prev
           ON prev.record_id = r.id AND prev.version = r.version - 1 AND prev.kind <> 'withdrawn'
    WHERE r.id = ANY($2::uuid[]) AND r.member_id = $1 AND r.severity >= {D}
      AND (prev.severity IS NULL OR prev.severity < r.severity)
),
per_subject AS (
    SELECT DISTINCT ON (subject_key) subject_key, status,
           CASE WHEN previous_severity >= {D} THEN 'worsened' ELSE 'new_delinquency' END AS kind
    FROM changed
    ORDER BY subject_key, severity DESC, previous_severity NULLS FIRST
),
raised AS (
    INSERT INTO alerts (member_id, subject_key, subject_sealed, label, kind, status, source_member_id)
    SELECT w.member_id, w.subject_key, w.subject_sealed, w.label, p.kind, p.status, $1
    FROM per_subject p JOIN watches w ON w.subject_key = p.subject_key
    WHERE w.member_id <> $1 AND {watcher_holds_live_record('w', 'coalesce($3::date, current_date)')}
    RETURNING id, member_id
),
{alert_outbox_cte('queued', 'raised')}
SELECT count(*) FROM raised
"""


async def raise_delinquency_alerts(
    conn: asyncpg.Connection, reporter_id: uuid.UUID, record_ids: Sequence[uuid.UUID], today: date | None
) -> int:
    return await conn.fetchval(DELINQUENCY_ALERTS, reporter_id, list(record_ids), today)


# Hard-inquiry alerts are written by the exposure function itself (migrations/sql/
# registry_exposure_v1.sql), in the same statement as the inquiry that causes them.


# --- the feed ----------------------------------------------------------------------------

# Identity order is not commit order: a transaction can take a lower id and commit after a
# higher one was read. The feed therefore walks (txid, id) and only returns alerts written by
# transactions older than the oldest one still running (the snapshot's xmin): those are all
# finished, so nothing can appear later below the cursor. An alert is held back while an
# older transaction anywhere in the server is still open, then returned exactly once.
# A published checkpoint head carries its checkpoint (`c.*`, registry.audit.sealing).
FEED = """
SELECT a.id, a.subject_key, a.subject_sealed, a.label, a.kind, a.status, a.at, a.txid,
       c.id AS checkpoint_id, c.format, c.last_txid, c.last_id, c.rows, c.changed_rows, c.previous_digest, c.digest,
       c.kid, c.signature, c.sealed_at
FROM alerts a LEFT JOIN audit_checkpoints c ON c.id = a.checkpoint_id
WHERE a.member_id = $1 AND (a.txid, a.id) > ($2::bigint, $3::bigint)
  AND a.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY a.txid, a.id
LIMIT $4
"""


async def feed(conn: asyncpg.Connection, member_id: uuid.UUID, after: tuple[int, int], limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(FEED, member_id, after[0], after[1], limit)


# --- published audit checkpoint heads (registry/audit/publishing.py) ---------------------

async def last_published_checkpoint(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT checkpoint_id, at FROM alerts WHERE kind = 'audit_checkpoint' ORDER BY checkpoint_id DESC LIMIT 1"
    )


async def raise_checkpoint_alerts(conn: asyncpg.Connection, checkpoint_id: int, at: datetime) -> int:
    """One `audit_checkpoint` alert in the feed of every active member; feed only, no webhook."""
    return await conn.fetchval(
        """
        WITH raised AS (
            INSERT INTO alerts (member_id, kind, checkpoint_id, at)
            SELECT id, 'audit_checkpoint', $1, $2 FROM members WHERE status = 'active'
            RETURNING 1
        )
        SELECT count(*) FROM raised
        """,
        checkpoint_id, at,
    )


# --- webhook endpoint --------------------------------------------------------------------

async def put_webhook(conn: asyncpg.Connection, member_id: uuid.UUID, url: str, secret_sealed: bytes | None) -> asyncpg.Record:
    """Set the URL, and the secret when given (None keeps the stored one)."""
    return await conn.fetchrow(
        """
        INSERT INTO webhooks AS h (member_id, url, secret_sealed) VALUES ($1, $2, $3)
        ON CONFLICT (member_id) DO UPDATE
            SET url = EXCLUDED.url, secret_sealed = coalesce($3, h.secret_sealed), updated_at = now()
        RETURNING url, created_at, updated_at
        """,
        member_id, url, secret_sealed,
    )


async def has_webhook(conn: asyncpg.Connection, member_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM webhooks WHERE member_id = $1)", member_id))


async def get_webhook(conn: asyncpg.Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT url, created_at, updated_at FROM webhooks WHERE member_id = $1", member_id)


async def delete_webhook(conn: asyncpg.Connection, member_id: uuid.UUID) -> bool:
    """Remove the endpoint and cancel what was still waiting to go to it."""
    return bool(
        await conn.fetchval(
            """
            WITH removed AS (DELETE FROM webhooks WHERE member_id = $1 RETURNING member_id),
            cancelled AS (
                UPDATE webhook_deliveries SET status = 'cancelled', last_error = 'webhook removed'
                WHERE member_id IN (SELECT member_id FROM removed) AND status = 'pending'
            )
            SELECT EXISTS (SELECT 1 FROM removed)
            """,
            member_id,
        )
    )


DELIVERY_COLUMNS = """id, event, alert_id, status, attempts, next_attempt_at, last_attempt_at, last_status_code,
    last_error, created_at, delivered_at"""


async def enqueue_ping(conn: asyncpg.Connection, member_id: uuid.UUID) -> asyncpg.Record:
    return await conn.fetchrow(
        f"INSERT INTO webhook_deliveries (member_id, event) VALUES ($1, 'ping') RETURNING {DELIVERY_COLUMNS}",
        member_id,
    )


async def list_deliveries(
    conn: asyncpg.Connection, member_id: uuid.UUID, *, before_id: int | None, status: str | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first."""
    return await conn.fetch(
        f"""
        SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
        WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR status = $3)
        ORDER BY id DESC LIMIT $4
        """,
        member_id, before_id, status, limit,
    )


# --- the delivery worker -----------------------------------------------------------------

# Claiming moves the row's next attempt past a lease, so a worker that dies mid-delivery
# leaves it to be tried again; SKIP LOCKED lets every process claim without waiting.
CLAIM = """
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= $1
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, last_attempt_at = $1, next_attempt_at = $1 + make_interval(secs => $3)
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.member_id, d.alert_id, d.event, d.attempts, d.created_at
)
SELECT c.*, h.url, h.secret_sealed,
       a.subject_sealed, a.subject_key, a.label, a.kind, a.status, a.at
FROM claimed c
LEFT JOIN webhooks h ON h.member_id = c.member_id
LEFT JOIN alerts a ON a.id = c.alert_id
ORDER BY c.id
"""


async def claim_due(pool: asyncpg.Pool, *, now: datetime, limit: int, lease_seconds: float) -> list[asyncpg.Record]:
    return await pool.fetch(CLAIM, now, limit, lease_seconds)


async def record_outcomes(
    pool: asyncpg.Pool,
    *,
    ids: list[int],
    statuses: list[str],
    next_attempts: list[datetime | None],
    status_codes: list[int | None],
    errors: list[str | None],
    now: datetime,
) -> None:
    await pool.execute(
        """
        UPDATE webhook_deliveries d
        SET status = o.status,
            next_attempt_at = coalesce(o.next_attempt_at, d.next_attempt_at),
            last_status_code = o.status_code,
            last_error = o.error,
            delivered_at = CASE WHEN o.status = 'delivered' THEN $6::timestamptz END
        FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::text[])
             AS o(id, status, next_attempt_at, status_code, error)
        WHERE d.id = o.id
        """,
        ids, statuses, next_attempts, status_codes, errors, now,
    )
