"""SQL of rate counters."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# Counted in this connection's shard; the answer is the window's total over all shards
# (other connections' in-flight hits aside, so a limit may be passed by at most the
# number of concurrent requests).
HIT = """
WITH mine AS (
    INSERT INTO rate_counters AS c (bucket, window_start, shard, hits)
    VALUES ($1, $2, pg_backend_pid(), $3)
    ON CONFLICT (bucket, window_start, shard) DO UPDATE SET hits = c.hits + EXCLUDED.hits
    RETURNING hits
)
SELECT (SELECT hits FROM mine)
     + coalesce((SELECT sum(hits) FROM rate_counters
                 WHERE bucket = $1 AND window_start = $2 AND shard <> pg_backend_pid()), 0)
"""

TOTAL = "SELECT coalesce(sum(hits), 0) FROM rate_counters WHERE bucket = $1 AND window_start = $2"


async def hit(conn: asyncpg.Connection | asyncpg.Pool, bucket: str, window_start: datetime, amount: int = 1) -> int:
    return int(await conn.fetchval(HIT, bucket, window_start, amount))


async def totals(conn: asyncpg.Connection | asyncpg.Pool, buckets: list[str], window_start: datetime) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT bucket, sum(hits) AS hits FROM rate_counters WHERE bucket = ANY($1::text[]) AND window_start = $2 GROUP BY 1",
        buckets,
        window_start,
    )
    return {row["bucket"]: int(row["hits"]) for row in rows}


async def forget_before(conn: asyncpg.Connection | asyncpg.Pool, cutoff: datetime) -> None:
    await conn.execute("DELETE FROM rate_counters WHERE window_start < $1", cutoff)
