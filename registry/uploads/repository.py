"""SQL of uploads: jobs and their progress, rejected lines, the staging table that COPY
fills, and the upsert of one staged chunk (the records domain's one statement, reading
from staging). Every read is keyed by the caller's member id.

Staging is a per-connection temporary table with ON COMMIT DELETE ROWS rather than a
shared UNLOGGED table: it is just as free of WAL, but each chunk's rows vanish with the
chunk's commit (no dead tuples for the next chunk to scan past, no vacuum to wait for),
jobs never see each other's rows, and a killed process leaves nothing behind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from registry.core import rows
from registry.core.tenancy import Member
from registry.records import repository as records_repository
from registry.records.repository import Counted
from registry.records.validation import ValidItem

STAGING_COLUMNS = (
    "account_ref",
    "subject_key",
    "subject_type",
    "product",
    "status",
    "collection_stage",
    "currency",
    "principal_minor",
    "outstanding_minor",
    "overdue_minor",
    "opened_on",
    "delinquent_since",
    "notice_sent_on",
    "closed_on",
    "as_of",
    "content_hash",
    "snapshot",
    "branch_code",
    "last_collection_action_on",
    "recovered_minor",
    "arrangement",
    "line_digest",
)

_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS upload_staging (
    account_ref text NOT NULL, subject_key bytea NOT NULL, subject_type text NOT NULL, product text NOT NULL,
    status text NOT NULL, collection_stage text NOT NULL, currency text NOT NULL,
    principal_minor bigint NOT NULL, outstanding_minor bigint NOT NULL, overdue_minor bigint NOT NULL,
    opened_on date, delinquent_since date, notice_sent_on date, closed_on date, as_of date NOT NULL,
    content_hash bytea NOT NULL, snapshot text NOT NULL,
    branch_code text, last_collection_action_on date, recovered_minor bigint NOT NULL, arrangement text NOT NULL,
    line_digest bytea NOT NULL
) ON COMMIT DELETE ROWS
"""

# asyncpg's binary COPY has no jsonb encoder, so the snapshot is staged as JSON text.
UPSERT_STAGED = records_repository.upsert_statement(
    f"""
    SELECT {", ".join(c for c in STAGING_COLUMNS if c != "snapshot")}, snapshot::jsonb AS snapshot
    FROM upload_staging ORDER BY account_ref""",
    records_repository.COUNTED,
)


@dataclass(frozen=True, slots=True)
class JobRow:
    id: uuid.UUID
    status: str
    format: str
    gzip: bool
    received_lines: int
    total_lines: int | None
    processed_lines: int
    created_lines: int
    updated_lines: int
    unchanged_lines: int
    stale_lines: int
    rejected_lines: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class FinishedJob(JobRow):
    """A job as it ended, with who ran it (for the audit row of a recovered job)."""

    member_id: uuid.UUID
    client_id: str
    request_id: str | None
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class ErrorRow:
    line: int
    account_ref: str | None
    errors: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class Progress:
    received_lines: int
    processed_lines: int


JOB_COLUMNS = rows.columns(JobRow)

# One advisory lock per job, held by the connection that runs it: a job whose lock is free
# has no live owner, whichever process or machine started it.
_JOB_LOCK = "hashtextextended('upload:' || $1::uuid::text, 0)"


async def ensure_staging(conn: asyncpg.Connection) -> None:
    await conn.execute(_CREATE_STAGING)


_SNAPSHOT = STAGING_COLUMNS.index("snapshot")


def staging_row(valid: ValidItem, line_digest: bytes) -> tuple[Any, ...]:
    """One valid item as a row of STAGING_COLUMNS (the snapshot as JSON text), with the
    digest of the line it was read from (registry/uploads/line_digests.py)."""
    values = records_repository.input_values(valid, line_digest)
    return (*values[:_SNAPSHOT], orjson.dumps(valid.snapshot).decode(), *values[_SNAPSHOT + 1 :])


# Rows asyncpg encodes for COPY between two turns of the event loop. Given a list, it encodes
# a chunk's 5000 rows in a few 512 KB buffers of 4-6 ms each, and the worker answers nothing
# meanwhile; handed out a few hundred at a time, it lets the loop run about every millisecond.
PACE_ROWS = 250


async def _paced(rows: Sequence[tuple[Any, ...]]) -> AsyncIterator[tuple[Any, ...]]:
    for start in range(0, len(rows), PACE_ROWS):
        if start:
            await asyncio.sleep(0)
        for row in rows[start : start + PACE_ROWS]:
            yield row


async def stage(conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table("upload_staging", records=_paced(rows), columns=STAGING_COLUMNS)


# A monthly file is mostly lines the registry already holds. `INSERT ... ON CONFLICT DO
# UPDATE ... WHERE` locks, and so writes, every stored row it compares, even when its WHERE
# leaves the row as it is: a re-upload of unchanged lines cost more than a fresh load. So the
# staged lines the upsert would not apply leave staging first, read-only: the stored record
# is newer (stale) or has the same `as_of` and content and is not withdrawn (unchanged), the
# negation of the upsert's WHERE. Most unchanged lines never get here (registry/uploads/line_digests.py
# knows them by their digest); those that do, because their bytes differ from the line that
# wrote the record (or it came through the API), leave their digest on the record
# (`refreshed`), so the next upload of the same line is known by it.
#
# Whatever the planner's statistics say (a plan cached while `records` was nearly empty
# once scanned all of the member's records for every chunk): the lookup is a scalar
# subquery, which PostgreSQL runs once per staged row and never turns into a join, and with
# sequential and bitmap scans off for this statement it can only be a probe of the unique
# index on (member_id, account_ref): one probe per staged row, at most CHUNK_LINES a chunk.
_SKIP_NOT_APPLIED = """
WITH verdicts AS MATERIALIZED (
    SELECT s.ctid AS row_id,
           (SELECT CASE WHEN r.as_of > s.as_of THEN 'stale'
                        WHEN r.as_of = s.as_of AND r.content_hash = s.content_hash AND r.withdrawn_at IS NULL
                        THEN CASE WHEN r.line_digest IS DISTINCT FROM s.line_digest THEN 'refreshed'
                                  ELSE 'unchanged' END END
            FROM records r WHERE r.member_id = $1 AND r.account_ref = s.account_ref) AS verdict
    FROM upload_staging s
),
skipped AS (
    DELETE FROM upload_staging s USING verdicts v
    WHERE s.ctid = v.row_id AND v.verdict IS NOT NULL
    RETURNING s.account_ref, s.line_digest, v.verdict
),
refreshed AS (
    UPDATE records r SET line_digest = k.line_digest
    FROM skipped k
    WHERE k.verdict = 'refreshed' AND r.member_id = $1 AND r.account_ref = k.account_ref
)
SELECT count(*) FILTER (WHERE verdict = 'stale') FROM skipped"""
# (and no JIT: the cost of a disabled scan, the only way to read staging, would pass its threshold)
#
# Planned afresh each time, too: `records` has two indexes that lead with member_id, and
# while it is empty or nearly so the planner costs them alike, so a plan made then may probe
# the (member_id, created_at, id) one and filter on account_ref, reading all of the member's
# records for each line. A cached generic plan kept that choice for the whole upload (a fresh
# load of 200,000 lines spent 316 µs of PostgreSQL's CPU per line instead of 36); a custom
# plan sees the table's current size and takes the unique index.
_PIN_PLANNER = {
    "enable_seqscan": "off",
    "enable_bitmapscan": "off",
    "jit": "off",
    "plan_cache_mode": "force_custom_plan",
}
_PLANNER_OFF = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in _PIN_PLANNER.items())
_PLANNER_BACK = "; ".join(f"SET LOCAL {name} TO DEFAULT" for name in _PIN_PLANNER)


async def upsert_staged(conn: asyncpg.Connection, owner: Member) -> Counted:
    """Apply the staged chunk as `owner`'s records; one row of counts (records_repository.COUNTED).
    Lines the upsert would leave as they are (unchanged or stale) are dropped from staging
    first, without touching their records; the stale ones are counted here."""
    await conn.execute(f"SELECT {_PLANNER_OFF}")
    stale = await conn.fetchval(_SKIP_NOT_APPLIED, owner.member_id)
    await conn.execute(_PLANNER_BACK)
    counted = await records_repository.upsert_counted(conn, owner, UPSERT_STAGED)
    return replace(counted, stale=counted.stale + stale)


# The positions (from 1) of the lines whose account holds that very line's digest, live.
# A scalar subquery per line, under the same pinned planner as the skip above, for the same
# reasons: one probe of the unique index each.
_HELD_LINES = """
SELECT t.n FROM unnest($2::text[], $3::bytea[]) WITH ORDINALITY AS t(account_ref, line_digest, n)
WHERE (SELECT r.line_digest = t.line_digest AND r.withdrawn_at IS NULL
       FROM records r WHERE r.member_id = $1 AND r.account_ref = t.account_ref)"""


async def held_lines(conn: asyncpg.Connection, owner: Member, refs: list[str], digests: list[bytes]) -> list[int]:
    """Which of the lines (`refs[i]`, `digests[i]`) `owner`'s records hold; positions from 1.
    Runs in the caller's transaction, whose planner settings it changes until the end."""
    await conn.execute(f"SELECT {_PLANNER_OFF}")
    return [row[0] for row in await conn.fetch(_HELD_LINES, owner.member_id, refs, digests)]


async def lock_job(conn: asyncpg.Connection, job_id: uuid.UUID) -> None:
    await conn.execute(f"SELECT pg_advisory_lock({_JOB_LOCK})", job_id)


async def unlock_job(conn: asyncpg.Connection, job_id: uuid.UUID) -> None:
    await conn.execute(f"SELECT pg_advisory_unlock({_JOB_LOCK})", job_id)


async def create_job(
    conn: asyncpg.Connection,
    owner: Member,
    job_id: uuid.UUID,
    *,
    client_id: str,
    request_id: str | None,
    idempotency_key: str | None,
    format: str,
    gzip: bool,
) -> JobRow:
    return JobRow(
        **await conn.fetchrow(
            f"""
        INSERT INTO upload_jobs (id, member_id, client_id, request_id, idempotency_key, format, gzip, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'receiving')
        RETURNING {JOB_COLUMNS}
        """,
            job_id,
            owner.member_id,
            client_id,
            request_id,
            idempotency_key,
            format,
            gzip,
        )
    )


async def add_errors(
    conn: asyncpg.Connection, job_id: uuid.UUID, errors: Sequence[tuple[int, str | None, list[dict]]]
) -> None:
    await conn.execute(
        """
        INSERT INTO upload_errors (job_id, line, account_ref, errors)
        SELECT $1, line, account_ref, reasons::jsonb
        FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(line, account_ref, reasons)
        """,
        job_id,
        [e[0] for e in errors],
        [e[1] for e in errors],
        [orjson.dumps(e[2]).decode() for e in errors],
    )


async def record_progress(
    conn: asyncpg.Connection, job_id: uuid.UUID, *, received: int, counts: dict[str, int], status: str
) -> None:
    """Add one chunk's outcomes; runs in the chunk's transaction."""
    await conn.execute(
        """
        UPDATE upload_jobs SET
            status = $3, received_lines = $2,
            processed_lines = processed_lines + $4 + $5 + $6 + $7 + $8,
            created_lines = created_lines + $4, updated_lines = updated_lines + $5,
            unchanged_lines = unchanged_lines + $6, stale_lines = stale_lines + $7,
            rejected_lines = rejected_lines + $8, updated_at = now()
        WHERE id = $1
        """,
        job_id,
        received,
        status,
        counts.get("created", 0),
        counts.get("updated", 0),
        counts.get("unchanged", 0),
        counts.get("stale", 0),
        counts.get("rejected", 0),
    )


async def finish(
    conn: asyncpg.Connection, job_id: uuid.UUID, *, status: str, error: str | None, received: int | None
) -> FinishedJob:
    """End the job (completed or failed); `received` None keeps the count it has."""
    return FinishedJob(
        **await conn.fetchrow(
            f"""
        UPDATE upload_jobs SET
            status = $2, error = $3,
            received_lines = coalesce($4, received_lines),
            total_lines = CASE WHEN $2 = 'completed' THEN coalesce($4, received_lines) END,
            updated_at = now(), finished_at = now()
        WHERE id = $1
        RETURNING {rows.columns(FinishedJob)}
        """,
            job_id,
            status,
            error,
            received,
        )
    )


async def get_own(conn: asyncpg.Connection, owner: Member, job_id: uuid.UUID) -> JobRow | None:
    return rows.one(
        JobRow,
        await conn.fetchrow(
            f"SELECT {JOB_COLUMNS} FROM upload_jobs WHERE id = $1 AND member_id = $2", job_id, owner.member_id
        ),
    )


async def list_own(
    conn: asyncpg.Connection, owner: Member, *, after: tuple[Any, uuid.UUID] | None, limit: int
) -> list[JobRow]:
    """Newest first."""
    return rows.many(
        JobRow,
        await conn.fetch(
            f"""
        SELECT {JOB_COLUMNS} FROM upload_jobs
        WHERE member_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
            owner.member_id,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        ),
    )


async def errors_page(
    conn: asyncpg.Connection, owner: Member, job_id: uuid.UUID, after_line: int, limit: int
) -> list[ErrorRow]:
    return rows.many(
        ErrorRow,
        await conn.fetch(
            f"""
        SELECT {rows.columns(ErrorRow, "e")} FROM upload_errors e
        JOIN upload_jobs j ON j.id = e.job_id AND j.member_id = $2
        WHERE e.job_id = $1 AND e.line > $3 ORDER BY e.line LIMIT $4
        """,
            job_id,
            owner.member_id,
            after_line,
            limit,
        ),
    )


async def unfinished_jobs(conn: asyncpg.Connection) -> list[uuid.UUID]:
    rows = await conn.fetch("SELECT id FROM upload_jobs WHERE status IN ('receiving', 'processing')")
    return [r["id"] for r in rows]


async def try_lock_job_for_transaction(conn: asyncpg.Connection, job_id: uuid.UUID) -> bool:
    """True when no live connection runs the job; the lock lasts until this transaction ends."""
    return await conn.fetchval(f"SELECT pg_try_advisory_xact_lock({_JOB_LOCK})", job_id)


async def lock_unfinished(conn: asyncpg.Connection, job_id: uuid.UUID) -> Progress | None:
    return rows.one(
        Progress,
        await conn.fetchrow(
            f"""
        SELECT {rows.columns(Progress)} FROM upload_jobs
        WHERE id = $1 AND status IN ('receiving', 'processing') FOR UPDATE
        """,
            job_id,
        ),
    )
