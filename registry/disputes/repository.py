"""SQL of disputes. A member's reads are keyed by its member id: it sees a dispute only when
it filed it or the dispute covers one of its records, and of the covered records only its own.
The flags on `records` that exposure reads (`disputed`, `dispute_deadline`, `suppressed`) are
written only here, in the transaction that changes the disputes behind them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from registry.core import rows
from registry.core.tenancy import Association, Member, Tenant, only_member
from registry.records import rules


@dataclass(frozen=True, slots=True)
class CoverableRecord:
    """A held record a dispute may cover."""

    id: uuid.UUID
    member_id: uuid.UUID
    subject_key: bytes
    account_ref: str
    as_of: date


@dataclass(frozen=True, slots=True)
class DisputeRow:
    id: uuid.UUID
    subject_key: bytes
    filed_by: uuid.UUID
    reason: str
    statement: str
    status: str
    received_at: datetime
    deadline: datetime
    records: int
    resolution: str | None
    resolution_note: str | None
    resolved_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class DisputeView(DisputeRow):
    filer_code: str
    filer_name: str


@dataclass(frozen=True, slots=True)
class CoveredRow:
    record_id: uuid.UUID
    member_id: uuid.UUID
    response: str | None
    note: str | None
    correction: dict[str, Any] | None
    responded_at: datetime | None
    outcome: str | None
    account_ref: str | None
    as_of: date | None
    subject_key: bytes | None
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class EventRow:
    at: datetime
    kind: str
    record_id: uuid.UUID | None
    details: dict[str, Any]
    member_id: uuid.UUID | None
    code: str | None
    name: str | None


def _columns(now: str, viewer: str) -> str:
    """A dispute's columns; `records` counts what the viewer may know of: for a member ($viewer
    not null) only its own covered records, for the association all of them."""
    return f"""
    d.id, d.subject_key, d.filed_by, d.reason, d.statement, d.status, d.received_at, d.deadline,
    CASE WHEN {viewer}::uuid IS NULL THEN d.records_covered ELSE (
        SELECT count(*) FROM dispute_records mine WHERE mine.dispute_id = d.id AND mine.member_id = {viewer})::int
    END AS records,
    d.resolution, d.resolution_note, d.resolved_at,
    (d.status = 'open' AND d.deadline <= {now}) AS overdue
"""


async def negative_records(conn: asyncpg.Connection, subject_key: bytes, today: date) -> list[CoverableRecord]:
    """Every live negative record about the subject, whoever holds it (not suppressed): a
    cross-member read, in association scope."""
    return rows.many(
        CoverableRecord,
        await conn.fetch(
            f"""
        SELECT {rows.columns(CoverableRecord, "r")} FROM records r
        WHERE r.subject_key = $1 AND {rules.held("r", "$2")} AND NOT r.suppressed AND {rules.delinquent("r")}
        ORDER BY r.id
        """,
            subject_key,
            today,
        ),
    )


async def held_record(
    conn: asyncpg.Connection, tenant: Tenant, record_id: uuid.UUID, today: date
) -> CoverableRecord | None:
    """A record that is held (neither withdrawn nor expired): a member's own, or any for the association."""
    return rows.one(
        CoverableRecord,
        await conn.fetchrow(
            f"""
        SELECT {rows.columns(CoverableRecord, "r")} FROM records r
        WHERE r.id = $1 AND {rules.held("r", "$2")} AND ($3::uuid IS NULL OR r.member_id = $3)
        """,
            record_id,
            today,
            only_member(tenant),
        ),
    )


async def holds_live_record(conn: asyncpg.Connection, member: Member, subject_key: bytes, today: date) -> bool:
    """The member holds a live record about the subject (a relationship with the borrower)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM records r "
            f"WHERE r.subject_key = $1 AND r.member_id = $2 AND {rules.held('r', '$3')})",
            subject_key,
            member.member_id,
            today,
        )
    )


async def create(
    conn: asyncpg.Connection,
    filer: Tenant,
    *,
    subject_key: bytes,
    reason: str,
    statement: str,
    received_at: datetime,
    deadline: datetime,
    records: list[CoverableRecord],
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
        subject_key,
        filer.member_id,
        reason,
        statement,
        received_at,
        deadline,
        [r.id for r in records],
        [r.member_id for r in records],
    )


async def refresh_record_flags(
    conn: asyncpg.Connection, record_ids: list[uuid.UUID], suppress: list[uuid.UUID]
) -> None:
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
        record_ids,
        suppress,
    )


def _visible(member_param: str) -> str:
    """A member sees a dispute it filed or one that covers a record of its own."""
    return f"""(d.filed_by = {member_param} OR EXISTS (
        SELECT 1 FROM dispute_records mine WHERE mine.dispute_id = d.id AND mine.member_id = {member_param}))"""


async def get(
    conn: asyncpg.Connection, tenant: Tenant, dispute_id: uuid.UUID, now: datetime, *, lock: bool = False
) -> DisputeView | None:
    return rows.one(
        DisputeView,
        await conn.fetchrow(
            f"""
        SELECT {_columns("$2", "$3")}, m.code AS filer_code, m.name AS filer_name
        FROM disputes d JOIN members m ON m.id = d.filed_by
        WHERE d.id = $1 AND ($3::uuid IS NULL OR {_visible("$3")})
        {"FOR UPDATE OF d" if lock else ""}
        """,
            dispute_id,
            now,
            only_member(tenant),
        ),
    )


async def covered(conn: asyncpg.Connection, tenant: Tenant, dispute_id: uuid.UUID) -> list[CoveredRow]:
    """The covered records (a member's own only), with each owner's answer and the outcome."""
    return rows.many(
        CoveredRow,
        await conn.fetch(
            """
        SELECT dr.record_id, dr.member_id, dr.action AS response, dr.note, dr.correction, dr.responded_at, dr.outcome,
               r.account_ref, r.as_of, r.subject_key, m.code, m.name
        FROM dispute_records dr
        JOIN members m ON m.id = dr.member_id
        LEFT JOIN records r ON r.id = dr.record_id
        WHERE dr.dispute_id = $1 AND ($2::uuid IS NULL OR dr.member_id = $2)
        ORDER BY m.code, r.account_ref, dr.record_id
        """,
            dispute_id,
            only_member(tenant),
        ),
    )


async def history(conn: asyncpg.Connection, tenant: Tenant, dispute_id: uuid.UUID) -> list[EventRow]:
    """Events of the dispute; a member does not see responses about other members' records."""
    return rows.many(
        EventRow,
        await conn.fetch(
            """
        SELECT e.at, e.kind, e.record_id, e.details, e.member_id, m.code, m.name
        FROM dispute_events e LEFT JOIN members m ON m.id = e.member_id
        WHERE e.dispute_id = $1
          AND ($2::uuid IS NULL OR e.kind <> 'response' OR e.member_id = $2)
        ORDER BY e.id
        """,
            dispute_id,
            only_member(tenant),
        ),
    )


async def list_disputes(
    conn: asyncpg.Connection,
    tenant: Tenant,
    *,
    status: str | None,
    overdue: bool | None,
    now: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DisputeRow]:
    return rows.many(
        DisputeRow,
        await conn.fetch(
            f"""
        SELECT {_columns("$1", "$2")} FROM disputes d
        WHERE ($2::uuid IS NULL OR {_visible("$2")})
          AND ($3::text IS NULL OR d.status = $3)
          AND ($4::boolean IS NULL OR (d.status = 'open' AND d.deadline <= $1) = $4)
          AND ($5::timestamptz IS NULL OR (d.received_at, d.id) > ($5, $6))
        ORDER BY d.received_at, d.id
        LIMIT $7
        """,
            now,
            only_member(tenant),
            status,
            overdue,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        ),
    )


async def record_response(
    conn: asyncpg.Connection,
    owner: Member,
    *,
    dispute_id: uuid.UUID,
    record_id: uuid.UUID,
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
        dispute_id,
        record_id,
        owner.member_id,
        action,
        note,
        correction,
        at,
    )
    return bool(row["n"])


async def resolve(
    conn: asyncpg.Connection,
    association: Association,
    *,
    dispute_id: uuid.UUID,
    resolution: str,
    note: str,
    at: datetime,
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
        VALUES ($1, $4, $5, 'resolved',
                jsonb_build_object('resolution', $2::text, 'note', $3::text, 'outcomes', $8::jsonb))
        """,
        dispute_id,
        resolution,
        note,
        at,
        association.member_id,
        list(outcomes),
        list(outcomes.values()),
        counts,
    )


# --- deadlines (registry/disputes/notifications.py) ---------------------------------------


@dataclass(frozen=True, slots=True)
class UnansweredLender:
    """A lender that has not answered for some of its records covered by an open dispute."""

    dispute_id: uuid.UUID
    reason: str
    deadline: datetime
    member_id: uuid.UUID
    records: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class OverdueDispute:
    id: uuid.UUID
    filed_by: uuid.UUID
    reason: str
    received_at: datetime
    deadline: datetime
    records_covered: int


async def unanswered_lenders(conn: asyncpg.Connection, *, now: datetime, within: timedelta) -> list[UnansweredLender]:
    """Per open dispute whose deadline falls in (now, now + within], each lender with covered
    records it has not answered for, and those records (every member's: association scope)."""
    return rows.many(
        UnansweredLender,
        await conn.fetch(
            """
        SELECT d.id AS dispute_id, d.reason, d.deadline, dr.member_id,
               jsonb_agg(jsonb_build_object('record_id', dr.record_id, 'account_ref', r.account_ref)
                         ORDER BY r.account_ref, dr.record_id) AS records
        FROM disputes d
        JOIN dispute_records dr ON dr.dispute_id = d.id AND dr.action IS NULL
        LEFT JOIN records r ON r.id = dr.record_id
        WHERE d.status = 'open' AND d.deadline > $1 AND d.deadline <= $1 + $2::interval
        GROUP BY d.id, dr.member_id
        ORDER BY d.deadline, d.id, dr.member_id
        """,
            now,
            within,
        ),
    )


async def claim_overdue(conn: asyncpg.Connection, *, now: datetime) -> list[OverdueDispute]:
    """Mark every open dispute past its deadline that the association was not yet told of, and
    return them: each is returned once, whatever runs at the same time (the row lock makes a
    concurrent claim re-check `overdue_notified_at`)."""
    return rows.many(
        OverdueDispute,
        await conn.fetch(
            f"""
        UPDATE disputes d SET overdue_notified_at = $1
        WHERE d.status = 'open' AND d.deadline <= $1 AND d.overdue_notified_at IS NULL
        RETURNING {rows.columns(OverdueDispute, "d")}
        """,
            now,
        ),
    )


async def stored_snapshot(conn: asyncpg.Connection, owner: Member, record_id: uuid.UUID) -> dict[str, Any] | None:
    """The record of `owner` as last reported (its current version's snapshot; no token)."""
    return await conn.fetchval(
        """
        SELECT e.snapshot FROM records r JOIN record_events e ON e.record_id = r.id AND e.version = r.version
        WHERE r.id = $1 AND r.member_id = $2 AND e.kind <> 'withdrawn'
        """,
        record_id,
        owner.member_id,
    )
