"""The console's read queries across domains: what its pages show that no API answers in
one piece (the disputes inbox with members, covered records in words, the audit log with
member names, operations). Read-only; the changes go through each domain's service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from registry.core.rows import columns, many
from registry.records.rules import UNCOLLECTED
from registry.records.vocabulary import DELINQUENT_STATUSES

AUDIT_PAGE = 100


@dataclass(frozen=True, slots=True)
class MemberLine:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    created_at: datetime


async def search_members(conn: asyncpg.Connection, text: str | None, limit: int = 200) -> list[MemberLine]:
    pattern = f"%{text.strip()}%" if text and text.strip() else None
    rows = await conn.fetch(
        f"""
        SELECT {columns(MemberLine)} FROM members
        WHERE $1::text IS NULL OR code ILIKE $1 OR name ILIKE $1
        ORDER BY code LIMIT $2
        """,
        pattern,
        limit,
    )
    return many(MemberLine, rows)


@dataclass(frozen=True, slots=True)
class InboxLine:
    id: uuid.UUID
    status: str
    reason: str
    received_at: datetime
    deadline: datetime
    resolution: str | None
    records: int
    filer_code: str
    members: list[str]


async def inbox(
    conn: asyncpg.Connection, *, status: str | None, member_code: str | None, overdue: bool, now: datetime
) -> list[InboxLine]:
    """Disputes by deadline, soonest first, with the members whose records they cover."""
    rows = await conn.fetch(
        """
        SELECT d.id, d.status, d.reason, d.received_at, d.deadline, d.resolution,
               count(dr.record_id)::int AS records, f.code AS filer_code,
               coalesce(array_agg(DISTINCT m.code) FILTER (WHERE m.code IS NOT NULL), '{}') AS members
        FROM disputes d
        JOIN members f ON f.id = d.filed_by
        LEFT JOIN dispute_records dr ON dr.dispute_id = d.id
        LEFT JOIN members m ON m.id = dr.member_id
        WHERE ($1::text IS NULL OR d.status = $1)
          AND (NOT $3 OR (d.status = 'open' AND d.deadline <= $4))
        GROUP BY d.id, f.code
        HAVING $2::text IS NULL OR $2 = ANY(array_agg(m.code)) OR f.code = $2
        ORDER BY d.status = 'resolved', d.deadline, d.id
        LIMIT 500
        """,
        status,
        member_code,
        overdue,
        now,
    )
    return many(InboxLine, rows)


@dataclass(frozen=True, slots=True)
class CoveredDetail:
    id: uuid.UUID
    product: str
    status: str
    currency: str
    outstanding_minor: int
    overdue_minor: int
    delinquent_since: date | None
    as_of: date


async def covered_details(conn: asyncpg.Connection, record_ids: list[uuid.UUID]) -> dict[uuid.UUID, CoveredDetail]:
    rows = await conn.fetch(f"SELECT {columns(CoveredDetail)} FROM records WHERE id = ANY($1)", record_ids)
    return {r.id: r for r in many(CoveredDetail, rows)}


@dataclass(frozen=True, slots=True)
class MonthRates:
    month: date
    live: int
    delinquent: int
    uncollected: int


# Each record as its owner had reported it by the month's end (its latest event with an as_of
# up to then), judged by the one rule of uncollected over that reported state.
_SNAPSHOT_COLUMNS = """
    e.status, e.as_of,
    (e.snapshot->>'delinquent_since')::date AS delinquent_since,
    coalesce(e.snapshot->>'arrangement', 'none') AS arrangement,
    (e.snapshot->>'last_collection_action_on')::date AS last_collection_action_on
"""


async def monthly_rates(conn: asyncpg.Connection, first_month: date, months: int) -> list[MonthRates]:
    delinquent = ", ".join(f"'{s}'" for s in DELINQUENT_STATUSES)
    rows = await conn.fetch(
        f"""
        WITH month_ends AS (
            SELECT m::date AS month, (m + interval '1 month' - interval '1 day')::date AS month_end
            FROM generate_series($1::date, $1::date + ($2 - 1) * interval '1 month', interval '1 month') m
        ),
        reported AS (
            SELECT me.month, x.* FROM month_ends me
            CROSS JOIN LATERAL (
                SELECT DISTINCT ON (e.record_id) e.kind, {_SNAPSHOT_COLUMNS}
                FROM record_events e WHERE e.as_of <= me.month_end
                ORDER BY e.record_id, e.as_of DESC, e.id DESC
            ) x
        )
        SELECT me.month,
               count(r.kind) FILTER (WHERE r.kind <> 'withdrawn')::int AS live,
               count(r.kind) FILTER (WHERE r.kind <> 'withdrawn' AND r.status IN ({delinquent}))::int AS delinquent,
               count(r.kind) FILTER (WHERE r.kind <> 'withdrawn' AND {UNCOLLECTED})::int AS uncollected
        FROM month_ends me LEFT JOIN reported r ON r.month = me.month
        GROUP BY me.month ORDER BY me.month
        """,
        first_month,
        months,
    )
    return many(MonthRates, rows)


@dataclass(frozen=True, slots=True)
class AuditLine:
    id: int
    at: datetime
    member_code: str | None
    member_name: str | None
    client_id: str | None
    action: str
    resource: str | None
    outcome: int
    request_id: str | None
    details: dict


@dataclass(frozen=True, slots=True)
class AuditFilter:
    member_code: str | None = None
    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def args(self) -> tuple[object, ...]:
        return (self.member_code, self.actor, self.action, self.since, self.until)


_AUDIT_SELECT = """
    SELECT a.id, a.at, m.code AS member_code, m.name AS member_name, a.client_id, a.action, a.resource,
           a.outcome, a.request_id, a.details
    FROM audit_log a LEFT JOIN members m ON m.id = a.member_id
    WHERE ($1::text IS NULL OR m.code = $1)
      AND ($2::text IS NULL OR a.client_id = $2)
      AND ($3::text IS NULL OR a.action = $3 OR a.action LIKE $3 || '.%')
      AND ($4::date IS NULL OR a.at >= $4::timestamp AT TIME ZONE 'UTC')
      AND ($5::date IS NULL OR a.at < ($5::date + 1)::timestamp AT TIME ZONE 'UTC')
"""


async def audit_page(conn: asyncpg.Connection, where: AuditFilter, before_id: int | None) -> list[AuditLine]:
    rows = await conn.fetch(
        _AUDIT_SELECT + " AND ($6::bigint IS NULL OR a.id < $6) ORDER BY a.id DESC LIMIT $7",
        *where.args(),
        before_id,
        AUDIT_PAGE + 1,
    )
    return many(AuditLine, rows)


async def audit_stream(pool: asyncpg.Pool, where: AuditFilter) -> AsyncIterator[AuditLine]:
    """Every matching row, oldest first, through a server-side cursor (an export)."""
    async with pool.acquire() as conn, conn.transaction():
        async for row in conn.cursor(_AUDIT_SELECT + " ORDER BY a.id", *where.args(), prefetch=500):
            yield AuditLine(**row)


@dataclass(frozen=True, slots=True)
class LastRetention:
    at: datetime
    client_id: str | None
    details: dict


async def last_retention(conn: asyncpg.Connection) -> LastRetention | None:
    row = await conn.fetchrow(
        "SELECT at, client_id, details FROM audit_log WHERE action = 'retention.run' AND outcome < 400 "
        "ORDER BY id DESC LIMIT 1"
    )
    return None if row is None else LastRetention(**row)


@dataclass(frozen=True, slots=True)
class UploadLine:
    id: uuid.UUID
    member_code: str
    status: str
    format: str
    received_lines: int
    processed_lines: int
    rejected_lines: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


async def recent_uploads(conn: asyncpg.Connection, limit: int = 50) -> list[UploadLine]:
    rows = await conn.fetch(
        """
        SELECT j.id, m.code AS member_code, j.status, j.format, j.received_lines, j.processed_lines,
               j.rejected_lines, j.error, j.created_at, j.finished_at
        FROM upload_jobs j JOIN members m ON m.id = j.member_id
        ORDER BY j.created_at DESC LIMIT $1
        """,
        limit,
    )
    return many(UploadLine, rows)


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    id: int
    member_code: str
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime


async def troubled_deliveries(conn: asyncpg.Connection, limit: int = 50) -> list[DeliveryLine]:
    rows = await conn.fetch(
        """
        SELECT w.id, m.code AS member_code, w.event, w.status, w.attempts, w.last_status_code, w.last_error,
               w.next_attempt_at, w.created_at
        FROM webhook_deliveries w JOIN members m ON m.id = w.member_id
        WHERE w.status = 'failed' OR (w.status = 'pending' AND w.attempts > 0)
        ORDER BY w.created_at DESC LIMIT $1
        """,
        limit,
    )
    return many(DeliveryLine, rows)
