"""SQL of disputes. A member's reads are keyed by its member id: it sees a dispute only when
it filed it or the dispute covers one of its records, and of the covered records only its own.
The flags on `records` that exposure reads (`disputed`, `dispute_deadline`, `suppressed`) are
written only here, in the transaction that changes the disputes behind them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.records.vocabulary import DELINQUENT_SEVERITY

# A record still held and answered about: the same rule as the exposure statement.
_HELD = "r.withdrawn_at IS NULL AND (r.expires_on IS NULL OR r.expires_on > $2)"

DISPUTE_COLUMNS = """
    d.id, d.subject_key, d.filed_by, d.reason, d.statement, d.status, d.received_at, d.deadline,
    d.records_covered AS records, d.resolution, d.resolution_note, d.resolved_at,
    (d.status = 'open' AND d.deadline <= $NOW) AS overdue
"""


def _columns(now_param: str) -> str:
    return DISPUTE_COLUMNS.replace("$NOW", now_param)


async def negative_records(conn: asyncpg.Connection, subject_key: bytes, today: date) -> list[asyncpg.Record]:
    """Every live negative record about the subject, whoever holds it (not suppressed)."""
    return await conn.fetch(
        f"""
        SELECT r.id, r.member_id FROM records r
        WHERE r.subject_key = $1 AND {_HELD} AND NOT r.suppressed AND r.severity >= {DELINQUENT_SEVERITY}
        ORDER BY r.id
        """,
        subject_key, today,
    )


async def held_record(
    conn: asyncpg.Connection, record_id: uuid.UUID, today: date, member_id: uuid.UUID | None
) -> asyncpg.Record | None:
    """A record that is held (neither withdrawn nor expired); a member's own when member_id is given."""
    return await conn.fetchrow(
        f"""
        SELECT r.id, r.member_id, r.subject_key, r.account_ref, r.as_of FROM records r
        WHERE r.id = $1 AND {_HELD} AND ($3::uuid IS NULL OR r.member_id = $3)
        """,
        record_id, today, member_id,
    )


async def create(
    conn: asyncpg.Connection,
    *,
    subject_key: bytes,
    filed_by: uuid.UUID,
    reason: str,
    statement: str,
    received_at: datetime,
    deadline: datetime,
    records: list[asyncpg.Record],
) -> uuid.UUID:
    """The dispute, the records it covers and its `filed` event, in one statement."""
    return await conn.fetchval(
        """
        WITH dispute AS (
            INSERT INTO disputes (subject_key, filed_by, reason, statement, received_at, deadline, records_covered)
            VALUES ($1, $2, $3, $4, $5, $6, cardinality($7::uuid[]))
            RETURNING id
        ), covered AS (
            INSERT INTO dispute_records (dispute_id, record_id, member_id)
            SELECT dispute.id, c.record_id, c.member_id
            FROM dispute, unnest($7::uuid[], $8::uuid[]) AS c(record_id, member_id)
        ), filed AS (
            INSERT INTO dispute_events (dispute_id, at, member_id, kind, details)
            SELECT id, $5, $2, 'filed', jsonb_build_object('reason', $3::text, 'records', cardinality($7::uuid[]))
            FROM dispute
        )
        SELECT id FROM dispute
        """,
        subject_key, filed_by, reason, statement, received_at, deadline,
        [r["id"] for r in records], [r["member_id"] for r in records],
    )


async def refresh_record_flags(conn: asyncpg.Connection, record_ids: list[uuid.UUID], suppress: list[uuid.UUID]) -> None:
    """Recompute what exposure reads from the disputes behind each record: `disputed` while an
    open dispute covers it or an unverifiable one did, the earliest open deadline, and
    suppression (which, once set, stays).

    The rows are locked first, in id order: a concurrent filing or resolution touching the
    same records waits, and the UPDATE (a new statement, so a new snapshot under READ
    COMMITTED) then sees its committed disputes; whoever runs last computes from all of them."""
    await conn.execute("SELECT 1 FROM records WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", record_ids)
    await conn.execute(
        """
        UPDATE records r SET
            disputed = EXISTS (
                SELECT 1 FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id
                WHERE dr.record_id = r.id AND (d.status = 'open' OR d.resolution = 'unverifiable')
            ),
            dispute_deadline = (
                SELECT min(d.deadline) FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id
                WHERE dr.record_id = r.id AND d.status = 'open'
            ),
            suppressed = r.suppressed OR r.id = ANY($2::uuid[])
        WHERE r.id = ANY($1::uuid[])
        """,
        record_ids, suppress,
    )


def _visible(member_param: str) -> str:
    """A member sees a dispute it filed or one that covers a record of its own."""
    return f"""(d.filed_by = {member_param} OR EXISTS (
        SELECT 1 FROM dispute_records mine WHERE mine.dispute_id = d.id AND mine.member_id = {member_param}))"""


async def get(
    conn: asyncpg.Connection, dispute_id: uuid.UUID, now: datetime, member_id: uuid.UUID | None, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_columns('$2')}, m.code AS filer_code, m.name AS filer_name
        FROM disputes d JOIN members m ON m.id = d.filed_by
        WHERE d.id = $1 AND ($3::uuid IS NULL OR {_visible('$3')})
        {'FOR UPDATE OF d' if lock else ''}
        """,
        dispute_id, now, member_id,
    )


async def covered(conn: asyncpg.Connection, dispute_id: uuid.UUID, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    """The covered records (a member's own only), with each owner's answer and the outcome."""
    return await conn.fetch(
        """
        SELECT dr.record_id, dr.member_id, dr.action AS response, dr.note, dr.correction, dr.responded_at, dr.outcome,
               r.account_ref, r.as_of, r.subject_key, m.code, m.name
        FROM dispute_records dr
        JOIN members m ON m.id = dr.member_id
        LEFT JOIN records r ON r.id = dr.record_id
        WHERE dr.dispute_id = $1 AND ($2::uuid IS NULL OR dr.member_id = $2)
        ORDER BY m.code, r.account_ref, dr.record_id
        """,
        dispute_id, member_id,
    )


async def history(conn: asyncpg.Connection, dispute_id: uuid.UUID, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    """Events of the dispute; a member does not see responses about other members' records."""
    return await conn.fetch(
        """
        SELECT e.at, e.kind, e.record_id, e.details, e.member_id, m.code, m.name
        FROM dispute_events e LEFT JOIN members m ON m.id = e.member_id
        WHERE e.dispute_id = $1
          AND ($2::uuid IS NULL OR e.kind <> 'response' OR e.member_id = $2)
        ORDER BY e.id
        """,
        dispute_id, member_id,
    )


async def list_disputes(
    conn: asyncpg.Connection,
    *,
    member_id: uuid.UUID | None,
    status: str | None,
    overdue: bool | None,
    now: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {_columns('$1')} FROM disputes d
        WHERE ($2::uuid IS NULL OR {_visible('$2')})
          AND ($3::text IS NULL OR d.status = $3)
          AND ($4::boolean IS NULL OR (d.status = 'open' AND d.deadline <= $1) = $4)
          AND ($5::timestamptz IS NULL OR (d.received_at, d.id) > ($5, $6))
        ORDER BY d.received_at, d.id
        LIMIT $7
        """,
        now, member_id, status, overdue, after[0] if after else None, after[1] if after else None, limit,
    )


async def record_response(
    conn: asyncpg.Connection,
    *,
    dispute_id: uuid.UUID,
    record_id: uuid.UUID,
    member_id: uuid.UUID,
    action: str,
    note: str,
    correction: dict[str, Any] | None,
    at: datetime,
) -> bool:
    """Store the owner's answer (a later answer replaces an earlier one) and append the event."""
    row = await conn.fetchrow(
        """
        WITH answered AS (
            UPDATE dispute_records SET action = $4, note = $5, correction = $6, responded_at = $7
            WHERE dispute_id = $1 AND record_id = $2 AND member_id = $3
            RETURNING dispute_id
        ), event AS (
            INSERT INTO dispute_events (dispute_id, at, member_id, kind, record_id, details)
            SELECT dispute_id, $7, $3, 'response', $2,
                   jsonb_build_object('action', $4::text, 'note', $5::text, 'correction', $6::jsonb IS NOT NULL)
            FROM answered
        )
        SELECT count(*) AS n FROM answered
        """,
        dispute_id, record_id, member_id, action, note, correction, at,
    )
    return bool(row["n"])


async def resolve(
    conn: asyncpg.Connection,
    *,
    dispute_id: uuid.UUID,
    resolution: str,
    note: str,
    at: datetime,
    actor: uuid.UUID,
    outcomes: dict[uuid.UUID, str],
) -> None:
    """Close the dispute with its per-record outcomes and append the `resolved` event."""
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    await conn.execute(
        """
        WITH closed AS (
            UPDATE disputes SET status = 'resolved', resolution = $2, resolution_note = $3, resolved_at = $4
            WHERE id = $1
        ), outcomes AS (
            UPDATE dispute_records dr SET outcome = o.outcome
            FROM unnest($6::uuid[], $7::text[]) AS o(record_id, outcome)
            WHERE dr.dispute_id = $1 AND dr.record_id = o.record_id
        )
        INSERT INTO dispute_events (dispute_id, at, member_id, kind, details)
        VALUES ($1, $4, $5, 'resolved', jsonb_build_object('resolution', $2::text, 'note', $3::text, 'outcomes', $8::jsonb))
        """,
        dispute_id, resolution, note, at, actor, list(outcomes), list(outcomes.values()), counts,
    )

