"""SQL of the scorecards: aggregates only (counts and sums per member and branch), read from
the `branch_tallies` ledger less the tallied records that have expired, never another
member's rows; the monthly snapshots; thresholds and their states."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from registry.core import rows
from registry.scorecards.models import TALLIED

SUMS = ("live", "delinquent", "uncollected", "overdue_minor", "recovered_minor")
ONE_MEMBER = "($2::uuid IS NULL OR member_id = $2)"


@dataclass(frozen=True, slots=True)
class BranchGroup:
    """A member's live accounts of one branch (None: no branch) and currency, counted."""

    member_id: uuid.UUID
    branch_code: str | None
    currency: str
    live: int
    delinquent: int
    uncollected: int
    overdue_minor: int
    recovered_minor: int


@dataclass(frozen=True, slots=True)
class NewestAsOf:
    member_id: uuid.UUID
    branch_code: str | None
    as_of: date


@dataclass(frozen=True, slots=True)
class DisputeCounts:
    member_id: uuid.UUID
    branch_code: str | None
    resolved: int
    upheld: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: date
    figures: dict


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    figure: str
    limit_value: float
    updated_at: datetime


_DELINQUENT = "severity >= 3"
# The ledger's sums by key, less the tallied records that have expired by $1 (few, found
# through the partial index of migration 0008).
BRANCH_GROUPS = f"""
WITH entries AS (
    SELECT member_id, branch_code, currency, {", ".join(SUMS)} FROM branch_tallies WHERE {ONE_MEMBER}
    UNION ALL
    SELECT member_id, branch_code, currency, -1,
           CASE WHEN {_DELINQUENT} THEN -1 ELSE 0 END,
           CASE WHEN uncollected THEN -1 ELSE 0 END,
           CASE WHEN {_DELINQUENT} THEN -overdue_minor ELSE 0 END,
           CASE WHEN {_DELINQUENT} THEN -recovered_minor ELSE 0 END
    FROM records WHERE {TALLIED} AND expires_on IS NOT NULL AND expires_on <= $1 AND {ONE_MEMBER}
)
SELECT member_id, branch_code, currency, {", ".join(f"sum({s})::bigint AS {s}" for s in SUMS)}
FROM entries
GROUP BY member_id, branch_code, currency
HAVING sum(live) > 0
"""

# Newest as_of of each member's (or one member's) live records per branch: for each branch
# the ledger knows, its partial index read backwards past the few expired records at its top
# (the accounts without a branch apart: `branch_code IS NULL` is its own index condition).
_NEWEST_OF = """
    SELECT r.as_of FROM records r
    WHERE r.member_id = b.member_id AND %s
      AND r.withdrawn_at IS NULL AND NOT r.suppressed AND (r.expires_on IS NULL OR r.expires_on > $1)
    ORDER BY r.as_of DESC LIMIT 1"""
NEWEST_AS_OF = f"""
SELECT b.member_id, b.branch_code, x.as_of
FROM (SELECT DISTINCT member_id, branch_code FROM branch_tallies WHERE {ONE_MEMBER} AND branch_code IS NOT NULL) b
CROSS JOIN LATERAL ({_NEWEST_OF % "r.branch_code = b.branch_code"}) x
UNION ALL
SELECT b.member_id, NULL, x.as_of
FROM (SELECT DISTINCT member_id FROM branch_tallies WHERE {ONE_MEMBER} AND branch_code IS NULL) b
CROSS JOIN LATERAL ({_NEWEST_OF % "r.branch_code IS NULL"}) x
"""

# Disputes resolved and upheld about each member's records, by the branch of the record.
DISPUTE_COUNTS = """
SELECT dr.member_id, r.branch_code,
       count(DISTINCT d.id) FILTER (WHERE d.status = 'resolved') AS resolved,
       count(DISTINCT d.id) FILTER (WHERE d.resolution = 'upheld') AS upheld
FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id JOIN records r ON r.id = dr.record_id
WHERE $1::uuid IS NULL OR dr.member_id = $1
GROUP BY dr.member_id, r.branch_code
"""

FOLD = f"""
WITH keys AS (
    SELECT member_id, branch_code, currency FROM branch_tallies
    GROUP BY member_id, branch_code, currency HAVING count(*) > 1
),
folded AS (
    DELETE FROM branch_tallies t USING keys k
    WHERE t.member_id = k.member_id AND t.branch_code IS NOT DISTINCT FROM k.branch_code AND t.currency = k.currency
    RETURNING t.*
)
INSERT INTO branch_tallies (member_id, branch_code, currency, {", ".join(SUMS)})
SELECT member_id, branch_code, currency, {", ".join(f"sum({s})" for s in SUMS)}
FROM folded
GROUP BY member_id, branch_code, currency
HAVING {" OR ".join(f"sum({s}) <> 0" for s in SUMS)}
"""


async def branch_groups(conn: asyncpg.Connection, today: date, member_id: uuid.UUID | None) -> list[BranchGroup]:
    return rows.many(BranchGroup, await conn.fetch(BRANCH_GROUPS, today, member_id))


async def newest_as_of(conn: asyncpg.Connection, today: date, member_id: uuid.UUID | None) -> list[NewestAsOf]:
    return rows.many(NewestAsOf, await conn.fetch(NEWEST_AS_OF, today, member_id))


async def dispute_counts(conn: asyncpg.Connection, member_id: uuid.UUID | None) -> list[DisputeCounts]:
    return rows.many(DisputeCounts, await conn.fetch(DISPUTE_COUNTS, member_id))


async def reporting_members(conn: asyncpg.Connection) -> list[MemberRow]:
    """The lenders that are ranked: every member but the association itself."""
    return rows.many(
        MemberRow, await conn.fetch("SELECT id, code, name FROM members WHERE kind <> 'association' ORDER BY code")
    )


async def fold(conn: asyncpg.Connection) -> int:
    status = await conn.execute(FOLD)
    return int(status.split()[-1])


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    return await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key)


async def months(conn: asyncpg.Connection, member_id: uuid.UUID, first: date) -> list[MonthRow]:
    return rows.many(
        MonthRow,
        await conn.fetch(
            "SELECT month, figures FROM scorecard_months WHERE member_id = $1 AND month >= $2 ORDER BY month",
            member_id,
            first,
        ),
    )


async def save_month(conn: asyncpg.Connection, member_id: uuid.UUID, month: date, figures: dict) -> None:
    await conn.execute(
        """
        INSERT INTO scorecard_months (member_id, month, figures) VALUES ($1, $2, $3)
        ON CONFLICT (member_id, month) DO UPDATE SET figures = EXCLUDED.figures, taken_at = now()
        """,
        member_id,
        month,
        figures,
    )


async def thresholds(conn: asyncpg.Connection) -> list[ThresholdRow]:
    return rows.many(
        ThresholdRow, await conn.fetch("SELECT figure, limit_value, updated_at FROM association_thresholds ORDER BY 1")
    )


async def replace_thresholds(conn: asyncpg.Connection, limits: dict[str, float]) -> list[ThresholdRow]:
    """The association's limits become exactly `limits` (a figure left out has none)."""
    await conn.execute("DELETE FROM association_thresholds WHERE NOT (figure = ANY($1::text[]))", list(limits))
    await conn.execute(
        """
        INSERT INTO association_thresholds (figure, limit_value)
        SELECT * FROM unnest($1::text[], $2::float8[])
        ON CONFLICT (figure) DO UPDATE SET limit_value = EXCLUDED.limit_value, updated_at = now()
        WHERE association_thresholds.limit_value <> EXCLUDED.limit_value
        """,
        list(limits),
        list(limits.values()),
    )
    return await thresholds(conn)


async def flip_state(conn: asyncpg.Connection, member_id: uuid.UUID, figure: str, crossed: bool) -> bool:
    """Record that `member_id` now stands past (or back within) the limit of `figure`; True
    only for the one caller that changed the state. A first look that finds the member
    within its limit is no change. Concurrent callers wait on the row: one of them flips it."""
    changed = await conn.fetchval(
        """
        WITH ins AS (
            INSERT INTO threshold_states (member_id, figure, crossed) VALUES ($1, $2, $3)
            ON CONFLICT (member_id, figure) DO UPDATE SET crossed = EXCLUDED.crossed, changed_at = now()
            WHERE threshold_states.crossed IS DISTINCT FROM EXCLUDED.crossed
            RETURNING (xmax = 0) AS inserted
        )
        SELECT CASE WHEN inserted THEN $3 ELSE true END FROM ins
        """,
        member_id,
        figure,
        crossed,
    )
    return bool(changed)
