"""SQL of idempotency keys."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def try_lock(conn: asyncpg.Connection, member_id: uuid.UUID, route: str, key: str) -> bool:
    """Hold the key for this transaction; False when another request holds it now."""
    return bool(
        await conn.fetchval(
            "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", f"idempotency|{member_id}|{route}|{key}"
        )
    )


async def claim(
    conn: asyncpg.Connection, member_id: uuid.UUID, route: str, key: str, fingerprint: bytes
) -> asyncpg.Record | None:
    """Claim the key for this request; when another request holds it, return that one's row.
    A concurrent first use waits here until the first transaction ends."""
    inserted = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (member_id, route, key, fingerprint) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        member_id, route, key, fingerprint,
    )
    if inserted:
        return None
    return await conn.fetchrow(
        "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE member_id = $1 AND route = $2 AND key = $3",
        member_id, route, key,
    )


async def store_response(
    conn: asyncpg.Connection, member_id: uuid.UUID, route: str, key: str, status_code: int, response: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $4, response = $5 WHERE member_id = $1 AND route = $2 AND key = $3",
        member_id, route, key, status_code, response,
    )


async def release(conn: asyncpg.Connection, member_id: uuid.UUID, route: str, key: str) -> None:
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE member_id = $1 AND route = $2 AND key = $3", member_id, route, key
    )
