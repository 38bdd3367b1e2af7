"""SQL of monitoring: watches, raising alerts (batched, in the caller's transaction, with
their outbox rows), the exactly-once alert feed, webhook endpoints and the delivery outbox.

A watch is in force only while its member holds a live record (not withdrawn, not expired)
on the subject: every query that uses watches joins on that, so a watch ends by itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.core import rows
from registry.core.tenancy import Member
from registry.records import rules
from registry.records.vocabulary import DELINQUENT_SEVERITY

D = DELINQUENT_SEVERITY


@dataclass(frozen=True, slots=True)
class WatchAdded:
    ord: int
    held: bool
    created: bool | None


@dataclass(frozen=True, slots=True)
class WatchRow:
    id: int
    subject_key: bytes
    subject_sealed: bytes
    label: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert of the feed: about a subject, or a published audit checkpoint head (then the
    checkpoint's columns are set and the subject's are not)."""

    id: int
    subject_key: bytes | None
    subject_sealed: bytes | None
    label: str | None
    kind: str
    status: str | None
    at: datetime
    txid: int
    dispute_id: uuid.UUID | None = None
    details: dict[str, Any] | None = None
    checkpoint_id: int | None = None
    format: int | None = None
    last_txid: int | None = None
    last_id: int | None = None
    rows: int | None = None
    changed_rows: list[int] | None = None
    previous_digest: bytes | None = None
    digest: bytes | None = None
    kid: str | None = None
    signature: bytes | None = None
    sealed_at: datetime | None = None
    account_ref: str | None = None
    record_id: uuid.UUID | None = None

    def checkpoint(self) -> dict[str, Any]:
        """The published checkpoint's columns, as registry.audit.sealing reads them."""
        return {
            "id": self.checkpoint_id,
            "format": self.format,
            "last_txid": self.last_txid,
            "last_id": self.last_id,
            "rows": self.rows,
            "changed_rows": self.changed_rows or [],
            "previous_digest": self.previous_digest,
            "digest": self.digest,
            "kid": self.kid,
            "signature": self.signature,
            "sealed_at": self.sealed_at,
        }


@dataclass(frozen=True, slots=True)
class Published:
    checkpoint_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class WebhookRow:
    url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    event: str
    alert_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed outbox row with what its delivery needs (the alert, the endpoint)."""

    id: int
    member_id: uuid.UUID
    alert_id: int | None
    event: str
    attempts: int
    created_at: datetime
    url: str | None
    secret_sealed: bytes | None
    subject_sealed: bytes | None
    subject_key: bytes | None
    label: str | None
    kind: str | None
    status: str | None
    at: datetime | None
    details: dict[str, Any] | None
    account_ref: str | None
    record_id: uuid.UUID | None
    dispute_id: uuid.UUID | None


def watcher_holds_live_record(watch: str, today: str) -> str:
    """SQL condition: the member of watch row `watch` holds a live record on its subject."""
    return f"""EXISTS (
        SELECT 1 FROM records watcher_record
        WHERE watcher_record.subject_key = {watch}.subject_key AND watcher_record.member_id = {watch}.member_id
          AND {rules.held("watcher_record", today)}
    )"""


# --- watches -----------------------------------------------------------------------------

ADD_WATCHES = f"""
WITH input AS (
    SELECT * FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS t(subject_key, subject_sealed, ord)
),
checked AS (
    SELECT i.*, {watcher_holds_live_record("w", "$5")} AS held
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
    conn: asyncpg.Connection,
    watcher: Member,
    subject_keys: list[bytes],
    sealed: list[bytes],
    label: str | None,
    today: date,
) -> list[WatchAdded]:
    """Watch every subject, or none when any lacks a live record of the member."""
    return rows.many(WatchAdded, await conn.fetch(ADD_WATCHES, watcher.member_id, subject_keys, sealed, label, today))


async def list_watches(
    conn: asyncpg.Connection, watcher: Member, *, after_id: int, limit: int, today: date
) -> list[WatchRow]:
    return rows.many(
        WatchRow,
        await conn.fetch(
            f"""
        SELECT {rows.columns(WatchRow, "w")} FROM watches w
        WHERE w.member_id = $1 AND w.id > $2 AND {watcher_holds_live_record("w", "$4")}
        ORDER BY w.id LIMIT $3
        """,
            watcher.member_id,
            after_id,
            limit,
            today,
        ),
    )


async def delete_watch(conn: asyncpg.Connection, watcher: Member, subject_key: bytes) -> bool:
    row = await conn.fetchrow(
        "DELETE FROM watches WHERE member_id = $1 AND subject_key = $2 RETURNING 1", watcher.member_id, subject_key
    )
    return row is not None


async def end_watches_without_live_record(
    conn: asyncpg.Connection, owner: Member, record_ids: Sequence[uuid.UUID], today: date | None
) -> None:
    """After records were withdrawn: drop the member's watches on their subjects that no
    longer have a live record of the member behind them."""
    await conn.execute(
        f"""
        DELETE FROM watches w USING records r
        WHERE r.id = ANY($2::uuid[]) AND r.member_id = $1
          AND w.member_id = $1 AND w.subject_key = r.subject_key
          AND NOT {watcher_holds_live_record("w", "coalesce($3::date, current_date)")}
        """,
        owner.member_id,
        list(record_ids),
        today,
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
    WHERE w.member_id <> $1 AND {watcher_holds_live_record("w", "coalesce($3::date, current_date)")}
    RETURNING id, member_id
),
{alert_outbox_cte("queued", "raised")}
SELECT count(*) FROM raised
"""


async def raise_delinquency_alerts(
    conn: asyncpg.Connection, reporter: Member, record_ids: Sequence[uuid.UUID], today: date | None
) -> int:
    return await conn.fetchval(DELINQUENCY_ALERTS, reporter.member_id, list(record_ids), today)


def hard_inquiry_alert_ctes(
    *,
    subjects: str,
    allowed: str,
    hard: str,
    inquirer: str,
    now: str,
    today: str,
    raised: str = "hard_inquiry_alerts",
    queued: str = "hard_inquiry_deliveries",
) -> str:
    """Two CTEs for the exposure statement: a hard inquiry by `inquirer` raises, for every
    other member watching one of the subjects (CTE `subjects` with `subject_key`) and still
    holding a live record on it, one `hard_inquiry` alert per inquirer and day, with its
    webhook outbox row. Nothing is raised unless `allowed` and `hard` (SQL booleans) hold."""
    return f"""{raised} AS (
    INSERT INTO alerts (member_id, subject_key, subject_sealed, label, kind, status, source_member_id, source_day, at)
    SELECT w.member_id, w.subject_key, w.subject_sealed, w.label, 'hard_inquiry', NULL, {inquirer},
           ({now}::timestamptz AT TIME ZONE 'UTC')::date, {now}
    FROM (SELECT DISTINCT subject_key FROM {subjects}) s
    JOIN watches w ON w.subject_key = s.subject_key
    WHERE {allowed} AND {hard} AND w.member_id <> {inquirer} AND {watcher_holds_live_record("w", today)}
    ON CONFLICT (member_id, subject_key, source_member_id, source_day) WHERE kind = 'hard_inquiry' DO NOTHING
    RETURNING id, member_id
),
{alert_outbox_cte(queued, raised, now)}"""


# --- the feed ----------------------------------------------------------------------------

# Identity order is not commit order: a transaction can take a lower id and commit after a
# higher one was read. The feed therefore walks (txid, id) and only returns alerts written by
# transactions older than the oldest one still running (the snapshot's xmin): those are all
# finished, so nothing can appear later below the cursor. An alert is held back while an
# older transaction anywhere in the server is still open, then returned exactly once.
# A published checkpoint head carries its checkpoint (`c.*`, registry.audit.sealing).
# An association alert carries its `details`. `$5`, when given, keeps only those kinds.
FEED = """
SELECT a.id, a.subject_key, a.subject_sealed, a.label, a.kind, a.status, a.at, a.txid, a.dispute_id, a.details,
       c.id AS checkpoint_id, c.format, c.last_txid, c.last_id, c.rows, c.changed_rows, c.previous_digest, c.digest,
       c.kid, c.signature, c.sealed_at, a.account_ref, a.record_id
FROM alerts a LEFT JOIN audit_checkpoints c ON c.id = a.checkpoint_id
WHERE a.member_id = $1 AND (a.txid, a.id) > ($2::bigint, $3::bigint)
  AND a.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  AND ($5::text[] IS NULL OR a.kind = ANY($5::text[]))
ORDER BY a.txid, a.id
LIMIT $4
"""


async def feed(
    conn: asyncpg.Connection,
    watcher: Member,
    after: tuple[int, int],
    limit: int,
    kinds: Sequence[str] | None = None,
) -> list[AlertRow]:
    return rows.many(
        AlertRow,
        await conn.fetch(FEED, watcher.member_id, after[0], after[1], limit, list(kinds) if kinds else None),
    )


# --- association alerts (registry/monitoring/association.py) -----------------------------

ASSOCIATION_ALERT = f"""
WITH raised AS (
    INSERT INTO alerts (member_id, kind, source_member_id, details, at)
    SELECT id, $1, $2, $3, $4 FROM members WHERE kind = 'association'
    RETURNING id, member_id
),
{alert_outbox_cte("queued", "raised", "$4")}
SELECT id FROM raised
"""


async def raise_association_alert(
    conn: asyncpg.Connection, kind: str, concerning: uuid.UUID | None, details: dict[str, Any], at: datetime
) -> int | None:
    """One alert in the association's own feed (about the member `concerning`, kept as its
    source), with its webhook outbox row; its id."""
    return await conn.fetchval(ASSOCIATION_ALERT, kind, concerning, details, at)


# --- published audit checkpoint heads (registry/audit/publishing.py) ---------------------


async def last_published_checkpoint(conn: asyncpg.Connection) -> Published | None:
    return rows.one(
        Published,
        await conn.fetchrow(
            "SELECT checkpoint_id, at FROM alerts WHERE kind = 'audit_checkpoint' ORDER BY checkpoint_id DESC LIMIT 1"
        ),
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
        checkpoint_id,
        at,
    )


# --- dispute alerts (registry/disputes/notifications.py) --------------------------------

RAISE_DISPUTE_ALERTS = f"""
WITH raised AS (
    INSERT INTO alerts (member_id, kind, dispute_id, details, at)
    SELECT n.member_id, $1, $2, n.details, $5
    FROM unnest($3::uuid[], $4::jsonb[]) AS n(member_id, details)
    ON CONFLICT (member_id, dispute_id, kind) WHERE dispute_id IS NOT NULL DO NOTHING
    RETURNING id, member_id
),
{alert_outbox_cte("queued", "raised", "$5")}
SELECT count(*) FROM raised
"""


async def raise_dispute_alerts(
    conn: asyncpg.Connection,
    kind: str,
    dispute_id: uuid.UUID,
    member_ids: Sequence[uuid.UUID],
    details: Sequence[dict[str, Any]],
    at: datetime,
) -> int:
    """One `kind` alert about the dispute to each member (with its own `details`) that has
    none of that kind yet, each with its webhook delivery queued; returns how many were new.
    Every member's rows: call in association scope."""
    if not member_ids:
        return 0
    return await conn.fetchval(RAISE_DISPUTE_ALERTS, kind, dispute_id, list(member_ids), list(details), at)


# --- webhook endpoint --------------------------------------------------------------------


async def put_webhook(conn: asyncpg.Connection, owner: Member, url: str, secret_sealed: bytes | None) -> WebhookRow:
    """Set the URL, and the secret when given (None keeps the stored one)."""
    return WebhookRow(
        **await conn.fetchrow(
            """
        INSERT INTO webhooks AS h (member_id, url, secret_sealed) VALUES ($1, $2, $3)
        ON CONFLICT (member_id) DO UPDATE
            SET url = EXCLUDED.url, secret_sealed = coalesce($3, h.secret_sealed), updated_at = now()
        RETURNING url, created_at, updated_at
        """,
            owner.member_id,
            url,
            secret_sealed,
        )
    )


async def has_webhook(conn: asyncpg.Connection, owner: Member) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM webhooks WHERE member_id = $1)", owner.member_id))


async def get_webhook(conn: asyncpg.Connection, owner: Member) -> WebhookRow | None:
    return rows.one(
        WebhookRow,
        await conn.fetchrow(f"SELECT {rows.columns(WebhookRow)} FROM webhooks WHERE member_id = $1", owner.member_id),
    )


async def delete_webhook(conn: asyncpg.Connection, owner: Member) -> bool:
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
            owner.member_id,
        )
    )


DELIVERY_COLUMNS = rows.columns(DeliveryRow)


async def enqueue_ping(conn: asyncpg.Connection, owner: Member) -> DeliveryRow:
    return DeliveryRow(
        **await conn.fetchrow(
            f"INSERT INTO webhook_deliveries (member_id, event) VALUES ($1, 'ping') RETURNING {DELIVERY_COLUMNS}",
            owner.member_id,
        )
    )


async def list_deliveries(
    conn: asyncpg.Connection, owner: Member, *, before_id: int | None, status: str | None, limit: int
) -> list[DeliveryRow]:
    """Newest first."""
    return rows.many(
        DeliveryRow,
        await conn.fetch(
            f"""
        SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
        WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR status = $3)
        ORDER BY id DESC LIMIT $4
        """,
            owner.member_id,
            before_id,
            status,
            limit,
        ),
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
       a.subject_sealed, a.subject_key, a.label, a.kind, a.status, a.at, a.details, a.account_ref, a.record_id,
       a.dispute_id
FROM claimed c
LEFT JOIN webhooks h ON h.member_id = c.member_id
LEFT JOIN alerts a ON a.id = c.alert_id
ORDER BY c.id
"""


async def claim_due(pool: asyncpg.Pool, *, now: datetime, limit: int, lease_seconds: float) -> list[DueDelivery]:
    """Every member's due deliveries: the delivery worker's, on the service's own login."""
    return rows.many(DueDelivery, await pool.fetch(CLAIM, now, limit, lease_seconds))


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
        ids,
        statuses,
        next_attempts,
        status_codes,
        errors,
        now,
    )
