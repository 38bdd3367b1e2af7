"""SQL of the industry statistics: aggregates only (counts and sums grouped by member). Figures
about records count live records: neither withdrawn, expired nor suppressed. They are read
from the `record_tallies` ledger (registry/stats/models.py) and corrected for what depends on
the day, so no query reads every record. Inquiry figures read the closed days' rollups
(`inquiry_days`, `stacking_pairs`, `stacking_subjects`, kept by registry/stats/rollup.py) and
count the rest of their span live from indexes alone."""

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

# Per member and purpose: the rolled-up days $1..$2 from `inquiry_days`, plus the inquiries
# from $3 to $4 counted live, per member through the (member_id, at) INCLUDE (purpose) index
# so the live part costs what it holds. An empty day range ($1 > $2) counts all of it live.
INQUIRY_COUNTS = """
WITH counted AS (
    SELECT member_id, purpose, inquiries AS n FROM inquiry_days
    WHERE day >= $1 AND day <= $2 AND ($5::uuid IS NULL OR member_id = $5)
    UNION ALL
    SELECT m.id, x.purpose, x.n
    FROM members m
    CROSS JOIN LATERAL (
        SELECT i.purpose, count(*) AS n FROM inquiries i
        WHERE i.member_id = m.id AND i.at >= $3 AND i.at <= $4
        GROUP BY i.purpose
    ) x
    WHERE $5::uuid IS NULL OR m.id = $5
)
SELECT member_id, purpose, sum(n)::bigint AS n FROM counted GROUP BY member_id, purpose
"""

# Loan stacking counted live: subjects with hard inquiries from at least 3 institutions
# between $1 and $2, from the partial index of hard inquiries alone. Rows: each member's count
# of stacked subjects it asked about, and the industry's (NULL member). The fallback when the
# maintained pairs do not match the window.
STACKING = """
WITH recent AS (
    SELECT subject_key, member_id FROM inquiries
    WHERE hard AND at >= $1 AND at <= $2
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

# Loan stacking from the maintained pairs of the rolled-up days, plus the hard inquiries from
# $1 to $2 (not rolled up) counted live. A subject asked about live is judged on its maintained
# pairs and its live ones together (the pairs read by subject); any other subject on its
# maintained count alone. Same rows as STACKING.
STACKING_MAINTAINED = """
WITH live AS (
    SELECT subject_key, member_id FROM inquiries
    WHERE hard AND at >= $1 AND at <= $2
    GROUP BY subject_key, member_id
),
live_subjects AS (
    SELECT DISTINCT subject_key FROM live
),
touched AS (
    SELECT subject_key, member_id FROM live
    UNION
    SELECT p.subject_key, p.member_id FROM live_subjects l JOIN stacking_pairs p USING (subject_key)
),
stacked_pairs AS (
    SELECT subject_key, member_id FROM touched
    WHERE subject_key IN (SELECT subject_key FROM touched GROUP BY subject_key HAVING count(*) >= 3)
    UNION ALL
    SELECT p.subject_key, p.member_id FROM stacking_subjects s JOIN stacking_pairs p USING (subject_key)
    WHERE s.members >= 3 AND s.subject_key NOT IN (SELECT subject_key FROM live_subjects)
)
SELECT member_id, count(*) AS n FROM stacked_pairs GROUP BY member_id
UNION ALL
SELECT NULL, count(DISTINCT subject_key) FROM stacked_pairs
"""

# One member's inquiries by month and purpose: its rolled-up days $2..$3, and live from $4 on.
MONTHLY_INQUIRIES = """
WITH counted AS (
    SELECT date_trunc('month', day::timestamp)::date AS month, purpose, inquiries AS n FROM inquiry_days
    WHERE member_id = $1 AND day >= $2 AND day <= $3
    UNION ALL
    SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date, purpose, count(*) FROM inquiries
    WHERE member_id = $1 AND at >= $4
    GROUP BY 1, 2
)
SELECT month, purpose, sum(n)::bigint AS n FROM counted GROUP BY month, purpose
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


async def newest_as_of(conn: asyncpg.Connection, today: date, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    return await conn.fetch(NEWEST_AS_OF, today, member_id)


async def fold_tallies(conn: asyncpg.Connection) -> int:
    """Fold the ledger; the number of rows it holds for the keys folded."""
    status = await conn.execute(FOLD_TALLIES)
    return int(status.split()[-1])


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    return await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key)


async def inquiry_counts(
    conn: asyncpg.Connection,
    rolled_days: tuple[date, date],
    live: tuple[datetime, datetime],
    member_id: uuid.UUID | None,
) -> list[asyncpg.Record]:
    """Inquiries by member and purpose: the rolled-up days (first, last) and the live span."""
    return await conn.fetch(INQUIRY_COUNTS, *rolled_days, *live, member_id)


async def stacking(conn: asyncpg.Connection, since: datetime, until: datetime) -> list[asyncpg.Record]:
    """Stacking counted live over the whole span."""
    await conn.execute(f"SET LOCAL work_mem = '{STACKING_WORK_MEM}'")
    return await conn.fetch(STACKING, since, until)


async def stacking_maintained(conn: asyncpg.Connection, live_since: datetime, until: datetime) -> list[asyncpg.Record]:
    """Stacking from the maintained pairs plus the live span."""
    await conn.execute(f"SET LOCAL work_mem = '{STACKING_WORK_MEM}'")
    return await conn.fetch(STACKING_MAINTAINED, live_since, until)


async def disputes(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(DISPUTES, now)


async def monthly(
    conn: asyncpg.Connection,
    member_id: uuid.UUID,
    first_month: date,
    rolled_days: tuple[date, date],
    live_since: datetime,
) -> dict[str, list[asyncpg.Record]]:
    """One member's series by month from `first_month`: inquiries by purpose (the rolled-up
    days, then live from `live_since`), delinquencies that started, disputes received."""
    inquiries = await conn.fetch(MONTHLY_INQUIRIES, member_id, *rolled_days, live_since)
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


# --- the rollup job (registry/stats/rollup.py) ----------------------------------------------

ROLLUP_STATE = "SELECT rolled_from, rolled_through, pairs_from FROM inquiry_rollup_state WHERE id = 1"

SET_ROLLUP_STATE = """
INSERT INTO inquiry_rollup_state (id, rolled_from, rolled_through, pairs_from) VALUES (1, $1, $2, $3)
ON CONFLICT (id) DO UPDATE
SET rolled_from = EXCLUDED.rolled_from, rolled_through = EXCLUDED.rolled_through, pairs_from = EXCLUDED.pairs_from
"""

# A UTC day $1 as the span [start, end) of timestamps.
DAY_START = "($1::date)::timestamp AT TIME ZONE 'UTC'"
DAY_END = "($1::date + 1)::timestamp AT TIME ZONE 'UTC'"

# One day's inquiries by member and purpose (after the day's old rows are deleted).
ROLL_DAY = f"""
INSERT INTO inquiry_days (day, member_id, purpose, inquiries)
SELECT $1, m.id, x.purpose, x.n
FROM members m
CROSS JOIN LATERAL (
    SELECT i.purpose, count(*) AS n FROM inquiries i
    WHERE i.member_id = m.id AND i.at >= {DAY_START} AND i.at < {DAY_END}
    GROUP BY i.purpose
) x
"""

# One day's hard (subject, member) pairs enter the window or move their last day to it; the
# subjects count the pairs that entered.
ADD_PAIRS = f"""
WITH day_pairs AS (
    SELECT subject_key, member_id FROM inquiries
    WHERE hard AND at >= {DAY_START} AND at < {DAY_END}
    GROUP BY subject_key, member_id
),
upserted AS (
    INSERT INTO stacking_pairs (subject_key, member_id, last_day)
    SELECT subject_key, member_id, $1 FROM day_pairs
    ON CONFLICT (subject_key, member_id) DO UPDATE SET last_day = EXCLUDED.last_day
    RETURNING subject_key, xmax = 0 AS entered
)
INSERT INTO stacking_subjects (subject_key, members)
SELECT subject_key, count(*) FROM upserted WHERE entered GROUP BY subject_key
ON CONFLICT (subject_key) DO UPDATE SET members = stacking_subjects.members + EXCLUDED.members
"""

# Pairs whose last day is before $1 leave the window; their subjects count them out, and a
# subject left with none goes.
EXPIRE_PAIRS = """
WITH left_window AS (
    DELETE FROM stacking_pairs WHERE last_day < $1 RETURNING subject_key
)
MERGE INTO stacking_subjects s
USING (SELECT subject_key, count(*) AS n FROM left_window GROUP BY subject_key) gone
ON s.subject_key = gone.subject_key
WHEN MATCHED AND s.members <= gone.n THEN DELETE
WHEN MATCHED THEN UPDATE SET members = s.members - gone.n
"""


async def rollup_state(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(ROLLUP_STATE)


async def set_rollup_state(conn: asyncpg.Connection, rolled_from: date, rolled_through: date, pairs_from: date) -> None:
    await conn.execute(SET_ROLLUP_STATE, rolled_from, rolled_through, pairs_from)


async def lock(conn: asyncpg.Connection, key: int) -> None:
    """Wait for the transaction-scoped advisory lock `key`."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", key)


async def roll_day(conn: asyncpg.Connection, day: date) -> None:
    await conn.execute("DELETE FROM inquiry_days WHERE day = $1", day)
    await conn.execute(ROLL_DAY, day)


async def forget_days_before(conn: asyncpg.Connection, day: date) -> None:
    await conn.execute("DELETE FROM inquiry_days WHERE day < $1", day)


async def add_pairs(conn: asyncpg.Connection, day: date) -> None:
    await conn.execute(ADD_PAIRS, day)


async def expire_pairs(conn: asyncpg.Connection, before: date) -> None:
    await conn.execute(EXPIRE_PAIRS, before)
