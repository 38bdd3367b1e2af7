"""SQL of the industry statistics: aggregates only (counts and sums grouped by member). Figures
about records count live records: neither withdrawn, expired nor suppressed. They are read
from the `record_tallies` ledger (registry/stats/models.py) and corrected for what depends on
the day, so no query reads every record; the inquiry windows are read from indexes alone."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg

from registry.stats.models import TALLIED, UNCOLLECTED, WITHOUT_VEHICLE

TALLY_KEY = "member_id, product, status, currency"
TALLY_SUMS = "live, overdue_minor, candidates, candidate_overdue_minor, without_vehicle"
ONE_MEMBER = "($2::uuid IS NULL OR member_id = $2)"

# The ledger's sums by key, less the tallied records that have expired by $1 (few, found
# through a partial index). Uncollected records (registry/records/rules.py) are tallied as
# they are written: delinquent more than 30 days and nobody collecting is the registry's
# founding concern.
RECORD_GROUPS = f"""
WITH entries AS (
    SELECT {TALLY_KEY}, {TALLY_SUMS} FROM record_tallies WHERE {ONE_MEMBER}
    UNION ALL
    SELECT {TALLY_KEY}, -1, -overdue_minor,
           CASE WHEN {UNCOLLECTED} THEN -1 ELSE 0 END,
           CASE WHEN {UNCOLLECTED} THEN -overdue_minor ELSE 0 END,
           CASE WHEN {WITHOUT_VEHICLE} THEN -1 ELSE 0 END
    FROM records WHERE {TALLIED} AND expires_on IS NOT NULL AND expires_on <= $1 AND {ONE_MEMBER}
)
SELECT {TALLY_KEY}, sum(live)::bigint AS n, sum(candidates)::bigint AS uncollected,
       sum(overdue_minor)::bigint AS overdue, sum(candidate_overdue_minor)::bigint AS uncollected_overdue,
       sum(without_vehicle)::bigint AS without_vehicle
FROM entries
GROUP BY {TALLY_KEY}
HAVING sum(live) > 0
"""

# Each member's most recent as_of among its live records: the partial index read backwards,
# past the few expired records at its top.
NEWEST_AS_OF = f"""
SELECT m.id AS member_id, x.as_of
FROM members m
CROSS JOIN LATERAL (
    SELECT r.as_of FROM records r
    WHERE r.member_id = m.id AND {TALLIED} AND (r.expires_on IS NULL OR r.expires_on > $1)
    ORDER BY r.as_of DESC LIMIT 1
) x
WHERE $2::uuid IS NULL OR m.id = $2
"""

# Folds each key's ledger rows into one. Rows appended meanwhile are not in the statement's
# snapshot and stay for the next fold; the sums are the same before and after.
FOLD_TALLIES = f"""
WITH keys AS (
    SELECT {TALLY_KEY} FROM record_tallies GROUP BY {TALLY_KEY} HAVING count(*) > 1
),
folded AS (
    DELETE FROM record_tallies t USING keys k
    WHERE (t.member_id, t.product, t.status, t.currency) = (k.member_id, k.product, k.status, k.currency)
    RETURNING t.*
)
INSERT INTO record_tallies ({TALLY_KEY}, {TALLY_SUMS})
SELECT {TALLY_KEY}, sum(live), sum(overdue_minor), sum(candidates), sum(candidate_overdue_minor), sum(without_vehicle)
FROM folded
GROUP BY {TALLY_KEY}
HAVING sum(live) <> 0 OR sum(overdue_minor) <> 0 OR sum(candidates) <> 0 OR sum(candidate_overdue_minor) <> 0
    OR sum(without_vehicle) <> 0
"""

# Per member through the (member_id, at) INCLUDE (purpose) index, so the window costs what it holds.
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

# Loan stacking: subjects with hard inquiries from at least 3 institutions in the window,
# from the partial index of hard inquiries alone. Rows: each member's count of stacked
# subjects it asked about, and the industry's (NULL member).
STACKING = """
WITH recent AS (
    SELECT subject_key, member_id FROM inquiries
    WHERE hard AND at > $1 AND at <= $2
    GROUP BY subject_key, member_id
),
stacked AS (
    SELECT subject_key FROM recent GROUP BY subject_key HAVING count(*) >= 3
)
SELECT r.member_id, count(*) AS n FROM recent r JOIN stacked s USING (subject_key) GROUP BY r.member_id
UNION ALL
SELECT NULL, count(*) FROM stacked
"""
# The window's (subject, member) pairs are hashed in memory rather than sorted on disk.
STACKING_WORK_MEM = "64MB"

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


async def newest_as_of(conn: asyncpg.Connection, today: date, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    return await conn.fetch(NEWEST_AS_OF, today, member_id)


async def fold_tallies(conn: asyncpg.Connection) -> int:
    """Fold the ledger; the number of rows it holds for the keys folded."""
    status = await conn.execute(FOLD_TALLIES)
    return int(status.split()[-1])


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    return await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key)


async def inquiry_counts(
    conn: asyncpg.Connection, since: datetime, until: datetime, member_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    return await conn.fetch(INQUIRY_COUNTS, since, until, member_id)


async def stacking(conn: asyncpg.Connection, since: datetime, until: datetime) -> list[asyncpg.Record]:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL work_mem = '{STACKING_WORK_MEM}'")
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
        member_id,
        first_month,
    )
    delinquencies = await conn.fetch(
        f"""
        SELECT date_trunc('month', delinquent_since)::date AS month, count(*) AS n
        FROM records WHERE member_id = $1 AND delinquent_since >= $2 AND {TALLIED}
        GROUP BY 1
        """,
        member_id,
        first_month,
    )
    disputes_received = await conn.fetch(
        """
        SELECT date_trunc('month', d.received_at AT TIME ZONE 'UTC')::date AS month, count(DISTINCT d.id) AS n
        FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id
        WHERE dr.member_id = $1 AND d.received_at >= ($2::date)::timestamp AT TIME ZONE 'UTC'
        GROUP BY 1
        """,
        member_id,
        first_month,
    )
    return {"inquiries": inquiries, "new_delinquencies": delinquencies, "disputes_received": disputes_received}
