"""SQL of the industry statistics: aggregates only (counts and sums grouped by member), each
one pass over an index or a GROUP BY the planner can run in parallel. Figures about records
count live records: neither withdrawn, expired nor suppressed."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg

from registry.records.vocabulary import DELINQUENT_SEVERITY

D = DELINQUENT_SEVERITY
# Delinquent for more than 30 days and no collection action: the registry's founding concern.
UNCOLLECTED = f"severity >= {D} AND collection_stage = 'none' AND delinquent_since < $1::date - 30"

RECORD_GROUPS = f"""
SELECT member_id, product, status, currency,
       count(*) AS n,
       count(*) FILTER (WHERE {UNCOLLECTED}) AS uncollected,
       coalesce(sum(overdue_minor), 0) AS overdue,
       coalesce(sum(overdue_minor) FILTER (WHERE {UNCOLLECTED}), 0) AS uncollected_overdue,
       max(as_of) AS newest_as_of
FROM records
WHERE withdrawn_at IS NULL AND NOT suppressed AND (expires_on IS NULL OR expires_on > $1)
  AND ($2::uuid IS NULL OR member_id = $2)
GROUP BY member_id, product, status, currency
"""

# Per member through the (member_id, at) index, so the window costs what it holds.
INQUIRY_COUNTS = """
SELECT m.id AS member_id, x.purpose, x.n
FROM members m
CROSS JOIN LATERAL (
    SELECT i.purpose, count(*) AS n FROM inquiries i
    WHERE i.member_id = m.id AND i.at > $1 AND i.at <= $2
    GROUP BY i.purpose
) x
WHERE $3::uuid IS NULL OR m.id = $3
"""

# Loan stacking: subjects with hard inquiries from at least 3 institutions in the window.
# Rows: each member's count of stacked subjects it asked about, and the industry's (NULL member).
STACKING = """
WITH recent AS (
    SELECT DISTINCT x.subject_key, m.id AS member_id
    FROM members m
    CROSS JOIN LATERAL (
        SELECT i.subject_key FROM inquiries i
        WHERE i.member_id = m.id AND i.hard AND i.at > $1 AND i.at <= $2
    ) x
),
stacked AS (
    SELECT subject_key FROM recent GROUP BY subject_key HAVING count(*) >= 3
)
SELECT r.member_id, count(*) AS n FROM recent r JOIN stacked s USING (subject_key) GROUP BY r.member_id
UNION ALL
SELECT NULL, count(*) FROM stacked
"""

# Disputes received by each member (covering one of its records) and by the industry (NULL member).
DISPUTES = """
SELECT dr.member_id,
       count(*) AS received,
       count(*) FILTER (WHERE d.status = 'open') AS open,
       count(*) FILTER (WHERE d.status = 'open' AND d.deadline <= $1) AS overdue,
       count(*) FILTER (WHERE d.status = 'resolved') AS resolved,
       count(*) FILTER (WHERE d.resolution = 'upheld') AS upheld
FROM (SELECT DISTINCT dispute_id, member_id FROM dispute_records) dr JOIN disputes d ON d.id = dr.dispute_id
GROUP BY dr.member_id
UNION ALL
SELECT NULL, count(*), count(*) FILTER (WHERE status = 'open'),
       count(*) FILTER (WHERE status = 'open' AND deadline <= $1),
       count(*) FILTER (WHERE status = 'resolved'), count(*) FILTER (WHERE resolution = 'upheld')
FROM disputes
"""


async def members(conn: asyncpg.Connection, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, code, name, kind FROM members WHERE $1::uuid IS NULL OR id = $1 ORDER BY code", member_id
    )


async def record_groups(conn: asyncpg.Connection, today: date, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    return await conn.fetch(RECORD_GROUPS, today, member_id)


async def inquiry_counts(
    conn: asyncpg.Connection, since: datetime, until: datetime, member_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    return await conn.fetch(INQUIRY_COUNTS, since, until, member_id)


async def stacking(conn: asyncpg.Connection, since: datetime, until: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(STACKING, since, until)


async def disputes(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(DISPUTES, now)


async def monthly(conn: asyncpg.Connection, member_id: uuid.UUID, first_month: date) -> dict[str, list[asyncpg.Record]]:
    """One member's series by month from `first_month`: inquiries by purpose, delinquencies
    that started, disputes received."""
    inquiries = await conn.fetch(
        """
        SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date AS month, purpose, count(*) AS n
        FROM inquiries WHERE member_id = $1 AND at >= ($2::date)::timestamp AT TIME ZONE 'UTC'
        GROUP BY 1, 2
        """,
        member_id, first_month,
    )
    delinquencies = await conn.fetch(
        """
        SELECT date_trunc('month', delinquent_since)::date AS month, count(*) AS n
        FROM records WHERE member_id = $1 AND delinquent_since >= $2 AND withdrawn_at IS NULL AND NOT suppressed
        GROUP BY 1
        """,
        member_id, first_month,
    )
    disputes_received = await conn.fetch(
        """
        SELECT date_trunc('month', d.received_at AT TIME ZONE 'UTC')::date AS month, count(DISTINCT d.id) AS n
        FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id
        WHERE dr.member_id = $1 AND d.received_at >= ($2::date)::timestamp AT TIME ZONE 'UTC'
        GROUP BY 1
        """,
        member_id, first_month,
    )
    return {"inquiries": inquiries, "new_delinquencies": delinquencies, "disputes_received": disputes_received}
