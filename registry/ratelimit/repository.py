"""SQL of rate counters."""

from __future__ import annotations

from datetime import datetime

import asyncpg


def bucket_sql(policy_name: str, key: str) -> str:
    """SQL of a policy's bucket for the key expression `key` (as ratelimit.service names it)."""
    return f"'{policy_name}:' || {key}"


def window_start_sql(window_seconds: int, now: str) -> str:
    """SQL of the start of the fixed window holding `now` (as Policy.window_start computes it)."""
    return f"to_timestamp(floor(extract(epoch FROM {now}) / {window_seconds}) * {window_seconds})"


def counting_ctes(bucket: str, window_start: str, amount: str, *, counted: str = "counted", used: str = "used") -> str:
    """Two CTEs that count `amount` hits in `bucket`'s window (SQL expressions): `counted`
    adds them to this connection's shard, `used` (one column `n`) is the window's total over
    all shards. Other connections' in-flight hits are not seen, so a limit may be passed by
    at most the number of concurrent requests; shards keep writers from queueing on one row."""
    return f"""{counted} AS (
    INSERT INTO rate_counters AS c (bucket, window_start, shard, hits)
    VALUES ({bucket}, {window_start}, pg_backend_pid(), {amount})
    ON CONFLICT (bucket, window_start, shard) DO UPDATE SET hits = c.hits + EXCLUDED.hits
    RETURNING hits
),
{used} AS (
    SELECT (SELECT hits FROM {counted}) + coalesce((
        SELECT sum(hits) FROM rate_counters
        WHERE bucket = {bucket} AND window_start = {window_start} AND shard <> pg_backend_pid()), 0) AS n
)"""


HIT = f"WITH {counting_ctes('$1', '$2', '$3')}\nSELECT n FROM used"

TOTAL = "SELECT coalesce(sum(hits), 0) FROM rate_counters WHERE bucket = $1 AND window_start = $2"


async def hit(conn: asyncpg.Connection | asyncpg.Pool, bucket: str, window_start: datetime, amount: int = 1) -> int:
    return int(await conn.fetchval(HIT, bucket, window_start, amount))


async def totals(conn: asyncpg.Connection | asyncpg.Pool, buckets: list[str], window_start: datetime) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT bucket, sum(hits) AS hits FROM rate_counters "
        "WHERE bucket = ANY($1::text[]) AND window_start = $2 GROUP BY 1",
        buckets,
        window_start,
    )
    return {row["bucket"]: int(row["hits"]) for row in rows}


async def forget_before(conn: asyncpg.Connection | asyncpg.Pool, cutoff: datetime) -> None:
    await conn.execute("DELETE FROM rate_counters WHERE window_start < $1", cutoff)
