"""SQL of records: the batched upsert (one statement for records and their events), the
member's own reads, and withdrawal. Every query is keyed by the member whose rows it touches
(a `Member` tenant); the answers are typed rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import asyncpg

from registry.core import rows
from registry.core.tenancy import Member
from registry.records import parties, rules
from registry.records.validation import ValidItem
from registry.records.vocabulary import DELINQUENT_SEVERITY, severity_sql


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A record as its owner reads it back (never the subject key: the token is not stored)."""

    id: uuid.UUID
    account_ref: str
    subject_type: str
    product: str
    status: str
    collection_stage: str
    currency: str
    principal_minor: int
    outstanding_minor: int
    overdue_minor: int
    opened_on: date | None
    delinquent_since: date | None
    notice_sent_on: date | None
    closed_on: date | None
    as_of: date
    branch_code: str | None
    last_collection_action_on: date | None
    recovered_minor: int
    arrangement: str
    uncollected: bool
    disputed: bool
    suppressed: bool
    expires_on: date | None
    withdrawn_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    kind: str
    version: int
    status: str
    as_of: date
    at: datetime


@dataclass(frozen=True, slots=True)
class Applied:
    """A row the upsert created or updated."""

    account_ref: str
    id: uuid.UUID
    inserted: bool
    severity: int


@dataclass(frozen=True, slots=True)
class StoredVersion:
    account_ref: str
    id: uuid.UUID
    as_of: date


@dataclass(frozen=True, slots=True)
class Counted:
    """What a bulk upsert did: rows created, updated and stale, and the ids now delinquent."""

    created: int
    updated: int
    stale: int
    delinquent: list[uuid.UUID]
    pledged: list[uuid.UUID] = field(default_factory=list)


NEGATIVE = DELINQUENT_SEVERITY

# When the delinquency of an updated record ended, given the stored row `r` and the new
# report `EXCLUDED`: a negative report ends it only by closing; a first non-negative report
# after a negative one ends it now; an earlier end is kept.
_ENDED_ON = f"""
    CASE
        WHEN {severity_sql("EXCLUDED.status")} >= {NEGATIVE} THEN EXCLUDED.closed_on
        WHEN r.severity >= {NEGATIVE} THEN coalesce(EXCLUDED.closed_on, EXCLUDED.as_of)
        WHEN r.delinquency_ended_on IS NOT NULL THEN r.delinquency_ended_on
        ELSE EXCLUDED.delinquency_ended_on
    END"""

# The rows the upsert applies: one per account_ref, with exactly these columns; $1 is the member.
# POST /v1/records passes them as arrays; uploads read them from their staging table.
INPUT_COLUMNS = """account_ref, subject_key, subject_type, product, status, collection_stage, currency,
           principal_minor, outstanding_minor, overdue_minor,
           opened_on, delinquent_since, notice_sent_on, closed_on, as_of,
           content_hash, snapshot,
           branch_code, last_collection_action_on, recovered_minor, arrangement,
           line_digest"""
INPUT_COUNT = 22

UNNEST_INPUT = f"""
    SELECT * FROM unnest(
        $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
        $9::bigint[], $10::bigint[], $11::bigint[],
        $12::date[], $13::date[], $14::date[], $15::date[], $16::date[],
        $17::bytea[], $18::jsonb[],
        $19::text[], $20::date[], $21::bigint[], $22::text[],
        $23::bytea[]
    ) AS t({INPUT_COLUMNS})"""


# What the upsert answers: each applied row (POST /v1/records gives every item its record id)...
PER_ROW = f"SELECT {rows.columns(Applied)} FROM upserted"
# ...or, for bulk input, one row of counts: the rows created, updated and stale (an input
# row not applied is stale when the stored report is newer, otherwise unchanged; the stored
# rows are read as they were before this statement) and the ids that are now delinquent.
COUNTED = f"""
SELECT (SELECT count(*) FROM upserted WHERE inserted) AS created,
       (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
       (SELECT count(*) FROM input i JOIN records r ON r.member_id = $1 AND r.account_ref = i.account_ref
        WHERE r.as_of > i.as_of AND i.account_ref NOT IN (SELECT account_ref FROM upserted)) AS stale,
       ARRAY(SELECT id FROM upserted WHERE severity >= {NEGATIVE}) AS delinquent,
       {parties.PLEDGED}"""


def upsert_statement(input_sql: str, answer: str = PER_ROW) -> str:
    """The one upsert of records and their events (expiry, stale and unchanged rules) over
    any input query producing INPUT_COLUMNS, answering PER_ROW or COUNTED."""
    return f"WITH input AS ({input_sql}\n),{_UPSERT_FROM_INPUT}{parties.UPSERT_CTES}{answer}"


_UPSERT_FROM_INPUT = f"""
derived AS (
    SELECT i.*,
           {severity_sql("i.status")} >= {NEGATIVE} AS negative,
           ({severity_sql("i.status")} >= {NEGATIVE} OR i.delinquent_since IS NOT NULL) AS was_delinquent
    FROM input i
),
prepared AS (
    SELECT d.*,
           CASE
               WHEN d.was_delinquent AND d.closed_on IS NOT NULL THEN d.closed_on
               WHEN NOT d.negative AND d.delinquent_since IS NOT NULL THEN d.as_of
           END AS ended_on
    FROM derived d
),
upserted AS (
    INSERT INTO records AS r (
        member_id, account_ref, subject_key, subject_type, product, status, collection_stage, currency,
        principal_minor, outstanding_minor, overdue_minor,
        opened_on, delinquent_since, notice_sent_on, closed_on, as_of,
        branch_code, last_collection_action_on, recovered_minor, arrangement,
        ever_delinquent, delinquency_ended_on, expires_on, content_hash, line_digest, names_vehicle
    )
    SELECT $1, p.account_ref, p.subject_key, p.subject_type, p.product, p.status, p.collection_stage, p.currency,
           p.principal_minor, p.outstanding_minor, p.overdue_minor,
           p.opened_on, p.delinquent_since, p.notice_sent_on, p.closed_on, p.as_of,
           p.branch_code, p.last_collection_action_on, p.recovered_minor, p.arrangement,
           p.was_delinquent, p.ended_on,
           (coalesce(p.ended_on, CASE WHEN NOT p.negative THEN p.closed_on END) + interval '5 years')::date,
           p.content_hash, p.line_digest, p.snapshot->'collateral' IS NOT NULL
    FROM prepared p
    ORDER BY p.account_ref
    ON CONFLICT (member_id, account_ref) DO UPDATE SET
        subject_key = EXCLUDED.subject_key,
        subject_type = EXCLUDED.subject_type,
        product = EXCLUDED.product,
        status = EXCLUDED.status,
        collection_stage = EXCLUDED.collection_stage,
        currency = EXCLUDED.currency,
        principal_minor = EXCLUDED.principal_minor,
        outstanding_minor = EXCLUDED.outstanding_minor,
        overdue_minor = EXCLUDED.overdue_minor,
        opened_on = EXCLUDED.opened_on,
        delinquent_since = EXCLUDED.delinquent_since,
        notice_sent_on = EXCLUDED.notice_sent_on,
        closed_on = EXCLUDED.closed_on,
        as_of = EXCLUDED.as_of,
        branch_code = EXCLUDED.branch_code,
        last_collection_action_on = EXCLUDED.last_collection_action_on,
        recovered_minor = EXCLUDED.recovered_minor,
        arrangement = EXCLUDED.arrangement,
        ever_delinquent = r.ever_delinquent OR EXCLUDED.ever_delinquent,
        delinquency_ended_on = {_ENDED_ON},
        expires_on = (coalesce({_ENDED_ON},
                               CASE WHEN {severity_sql("EXCLUDED.status")} < {NEGATIVE} THEN EXCLUDED.closed_on END)
                      + interval '5 years')::date,
        content_hash = EXCLUDED.content_hash,
        line_digest = EXCLUDED.line_digest,
        names_vehicle = EXCLUDED.names_vehicle,
        withdrawn_at = NULL,
        version = r.version + 1,
        updated_at = now()
    WHERE r.as_of < EXCLUDED.as_of
       OR (r.as_of = EXCLUDED.as_of AND (r.content_hash <> EXCLUDED.content_hash OR r.withdrawn_at IS NOT NULL))
    RETURNING r.id, r.account_ref, r.subject_key, r.version, r.status, r.severity, r.as_of, (r.xmax = 0) AS inserted
),
events AS (
    INSERT INTO record_events (record_id, member_id, subject_key, kind, version, status, severity, as_of, snapshot)
    SELECT u.id, $1, u.subject_key, CASE WHEN u.inserted THEN 'created' ELSE 'updated' END,
           u.version, u.status, u.severity, u.as_of, i.snapshot
    FROM upserted u JOIN input i USING (account_ref)
)
"""

UPSERT = upsert_statement(UNNEST_INPUT)


async def upsert(conn: asyncpg.Connection, owner: Member, items: Sequence[ValidItem]) -> list[Applied]:
    """Apply every item as `owner`'s; returns the rows created or updated (the others were
    stale or unchanged)."""
    columns: list[list[object]] = [[] for _ in range(INPUT_COUNT)]
    for v in items:
        for column, value in zip(columns, input_values(v), strict=True):
            column.append(value)
    return rows.many(Applied, await conn.fetch(UPSERT, owner.member_id, *columns))


async def upsert_counted(conn: asyncpg.Connection, owner: Member, statement: str) -> Counted:
    """Run a bulk upsert (`upsert_statement(input, COUNTED)`) as `owner`'s; one row of counts."""
    return Counted(**await conn.fetchrow(statement, owner.member_id))


def input_values(v: ValidItem, line_digest: bytes | None = None) -> tuple[object, ...]:
    """One valid item as the values of INPUT_COLUMNS, in order; `line_digest` is the upload
    line's (registry/uploads/line_digests.py), None for any other way in."""
    i = v.item
    return (
        i.account_ref,
        v.subject_key,
        i.subject_type.value,
        i.product.value,
        i.status.value,
        i.collection_stage.value,
        v.snapshot["currency"],
        v.principal_minor,
        v.outstanding_minor,
        v.overdue_minor,
        i.opened_on,
        i.delinquent_since,
        i.notice_sent_on,
        i.closed_on,
        i.as_of,
        v.content_hash,
        v.snapshot,
        i.branch_code,
        i.last_collection_action_on,
        v.recovered_minor,
        i.arrangement.value,
        line_digest,
    )


async def current_versions(conn: asyncpg.Connection, owner: Member, account_refs: list[str]) -> list[StoredVersion]:
    return rows.many(
        StoredVersion,
        await conn.fetch(
            f"SELECT {rows.columns(StoredVersion)} FROM records WHERE member_id = $1 AND account_ref = ANY($2::text[])",
            owner.member_id,
            account_refs,
        ),
    )


RECORD_COLUMNS = rows.columns(RecordRow)


@dataclass(frozen=True, slots=True)
class ListFilters:
    """The filters of a member's record listing (None: not filtered on)."""

    subject_key: bytes | None = None
    status: str | None = None
    product: str | None = None
    branch_code: str | None = None
    uncollected: bool | None = None
    # Days past due on the record's as_of (as_of - delinquent_since), at least.
    min_days: int | None = None


# $1 the member, $2 today; the filters from $3.
_LISTED = f"""
    FROM records r
    WHERE member_id = $1 AND {rules.held("r", "$2")}
      AND ($3::bytea IS NULL OR subject_key = $3)
      AND ($4::text IS NULL OR status = $4)
      AND ($5::text IS NULL OR product = $5)
      AND ($6::text IS NULL OR branch_code = $6)
      AND ($7::boolean IS NULL OR uncollected = $7)
      AND ($8::integer IS NULL OR ({rules.delinquent("r")} AND as_of - delinquent_since >= $8))"""


def _filter_args(owner: Member, today: date, f: ListFilters) -> tuple[object, ...]:
    return (owner.member_id, today, f.subject_key, f.status, f.product, f.branch_code, f.uncollected, f.min_days)


async def list_own(
    conn: asyncpg.Connection,
    owner: Member,
    filters: ListFilters,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int | None,
    today: date,
) -> list[RecordRow]:
    """Own live records (neither withdrawn nor expired) in the order they were created;
    every one of them when `limit` is None."""
    return rows.many(
        RecordRow,
        await conn.fetch(
            f"""
        SELECT {RECORD_COLUMNS} {_LISTED}
          AND ($9::timestamptz IS NULL OR (created_at, id) > ($9, $10))
        ORDER BY created_at, id
        LIMIT $11
        """,
            *_filter_args(owner, today, filters),
            after[0] if after else None,
            after[1] if after else None,
            limit,
        ),
    )


async def worklist(
    conn: asyncpg.Connection,
    owner: Member,
    filters: ListFilters,
    *,
    after: tuple[int, uuid.UUID] | None,
    limit: int | None,
    today: date,
) -> list[RecordRow]:
    """Own live uncollected accounts, most days past due (on their as_of) first, then by id;
    `after` is the (days, id) of the previous page's last row. A member's uncollected
    accounts are found through their partial index and sorted in memory."""
    return rows.many(
        RecordRow,
        await conn.fetch(
            f"""
        SELECT {RECORD_COLUMNS} {_LISTED}
          AND uncollected
          AND ($9::integer IS NULL OR as_of - delinquent_since < $9
               OR (as_of - delinquent_since = $9 AND id > $10::uuid))
        ORDER BY as_of - delinquent_since DESC, id
        LIMIT $11
        """,
            *_filter_args(owner, today, filters),
            after[0] if after else None,
            after[1] if after else None,
            limit,
        ),
    )


async def get_own(conn: asyncpg.Connection, owner: Member, record_id: uuid.UUID) -> RecordRow | None:
    return rows.one(
        RecordRow,
        await conn.fetchrow(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE id = $1 AND member_id = $2", record_id, owner.member_id
        ),
    )


async def events_of(conn: asyncpg.Connection, owner: Member, record_id: uuid.UUID) -> list[EventRow]:
    return rows.many(
        EventRow,
        await conn.fetch(
            f"SELECT {rows.columns(EventRow)} FROM record_events WHERE record_id = $1 AND member_id = $2 ORDER BY id",
            record_id,
            owner.member_id,
        ),
    )


async def withdraw(conn: asyncpg.Connection, owner: Member, record_id: uuid.UUID) -> RecordRow | None:
    """Withdraw a live record and append the event; None when it is not the member's or already withdrawn."""
    return rows.one(
        RecordRow,
        await conn.fetchrow(
            f"""
        WITH withdrawn AS (
            UPDATE records SET withdrawn_at = now(), version = version + 1, updated_at = now()
            WHERE id = $1 AND member_id = $2 AND withdrawn_at IS NULL
            RETURNING *
        ), event AS (
            INSERT INTO record_events
                (record_id, member_id, subject_key, kind, version, status, severity, as_of, snapshot)
            SELECT id, member_id, subject_key, 'withdrawn', version, status, severity, as_of, '{{}}'::jsonb
            FROM withdrawn
        )
        SELECT {RECORD_COLUMNS} FROM withdrawn
        """,
            record_id,
            owner.member_id,
        ),
    )


# --- one kind of subject per token (registry/records/subject_types.py) -------------------


async def held_subject_types(
    conn: asyncpg.Connection,
    subject_keys: Sequence[bytes],
    exempt_member: uuid.UUID | None,
    exempt_refs: Sequence[str | None],
    today: date,
) -> dict[int, list[str]]:
    """For each subject (by 0-based position), the subject types live records hold for it,
    as their borrower or as one of their parties (a link not removed), whoever holds them,
    leaving out the record of `exempt_member` with that position's account_ref (the record
    being rewritten). Reads every member's rows: association scope. Types only: never who
    holds them."""
    exempt = "NOT (r.member_id IS NOT DISTINCT FROM $2::uuid AND r.account_ref IS NOT DISTINCT FROM i.account_ref)"
    found = await conn.fetch(
        f"""
        SELECT i.ord - 1 AS position, array_agg(DISTINCT h.subject_type ORDER BY h.subject_type) AS held
        FROM unnest($1::bytea[], $3::text[]) WITH ORDINALITY AS i(subject_key, account_ref, ord)
        CROSS JOIN LATERAL (
            SELECT r.subject_type FROM records r
            WHERE r.subject_key = i.subject_key AND {rules.held("r", "$4")} AND {exempt}
            UNION ALL
            SELECT p.subject_type FROM record_parties p JOIN records r ON r.id = p.record_id
            WHERE p.subject_key = i.subject_key AND p.removed_at IS NULL AND {rules.held("r", "$4")} AND {exempt}
        ) h
        GROUP BY i.ord
        """,
        list(subject_keys),
        exempt_member,
        list(exempt_refs),
        today,
    )
    return {row["position"]: list(row["held"]) for row in found}
