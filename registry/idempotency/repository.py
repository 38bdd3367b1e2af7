"""SQL of idempotency keys: each keyed by the member, the route template and the caller's key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry.core import rows


@dataclass(frozen=True)
class IdempotencyKey:
    """A caller's Idempotency-Key, scoped to its member and the route's template
    (`RequestContext.idempotency` makes it)."""

    member_id: uuid.UUID
    route: str
    key: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What an earlier request with the same key left: its body's fingerprint, and its answer
    once it completed."""

    fingerprint: bytes
    status_code: int | None
    response: dict[str, Any] | None


async def try_lock(conn: asyncpg.Connection, scoped: IdempotencyKey) -> bool:
    """Hold the key for this transaction; False when another request holds it now."""
    return bool(
        await conn.fetchval(
            "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
            f"idempotency|{scoped.member_id}|{scoped.route}|{scoped.key}",
        )
    )


async def claim(conn: asyncpg.Connection, scoped: IdempotencyKey, fingerprint: bytes) -> StoredKey | None:
    """Claim the key for this request; when another request holds it, return that one's row.
    A concurrent first use waits here until the first transaction ends."""
    inserted = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (member_id, route, key, fingerprint) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        scoped.member_id,
        scoped.route,
        scoped.key,
        fingerprint,
    )
    if inserted:
        return None
    return rows.one(
        StoredKey,
        await conn.fetchrow(
            f"SELECT {rows.columns(StoredKey)} FROM idempotency_keys WHERE member_id = $1 AND route = $2 AND key = $3",
            scoped.member_id,
            scoped.route,
            scoped.key,
        ),
    )


async def store_response(
    conn: asyncpg.Connection, scoped: IdempotencyKey, status_code: int, response: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $4, response = $5 WHERE member_id = $1 AND route = $2 AND key = $3",
        scoped.member_id,
        scoped.route,
        scoped.key,
        status_code,
        response,
    )


async def release(conn: asyncpg.Connection, scoped: IdempotencyKey) -> None:
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE member_id = $1 AND route = $2 AND key = $3",
        scoped.member_id,
        scoped.route,
        scoped.key,
    )
