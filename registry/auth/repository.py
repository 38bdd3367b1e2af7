"""SQL of authentication: looking up a client and whether it may act."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry.core import rows


@dataclass(frozen=True, slots=True)
class StandingRow:
    active: bool
    quota_exposure_per_minute: int | None
    quota_writes_per_second: int | None


@dataclass(frozen=True, slots=True)
class ClientRow:
    """A client as the token endpoint checks it."""

    client_id: str
    member_id: uuid.UUID
    secret_hash: bytes | None
    public_jwk: dict[str, Any] | None
    scopes: list[str]
    status: str
    member_status: str


async def client_standing(
    pool: asyncpg.Pool | asyncpg.Connection, client_id: str, member_id: str
) -> StandingRow | None:
    """Whether the client may act, and its member's quotas."""
    try:
        member_uuid = uuid.UUID(member_id)
    except ValueError:
        return None
    return rows.one(
        StandingRow,
        await pool.fetchrow(
            """
        SELECT c.status = 'active' AND m.status = 'active' AS active,
               m.quota_exposure_per_minute, m.quota_writes_per_second
        FROM api_clients c JOIN members m ON m.id = c.member_id
        WHERE c.client_id = $1 AND c.member_id = $2
        """,
            client_id,
            member_uuid,
        ),
    )


async def find_client(conn: asyncpg.Connection, client_id: str) -> ClientRow | None:
    return rows.one(
        ClientRow,
        await conn.fetchrow(
            """
        SELECT c.client_id, c.member_id, c.secret_hash, c.public_jwk, c.scopes, c.status,
               m.status AS member_status
        FROM api_clients c JOIN members m ON m.id = c.member_id
        WHERE c.client_id = $1
        """,
            client_id,
        ),
    )


async def touch_client(conn: asyncpg.Connection, client_id: str) -> None:
    await conn.execute("UPDATE api_clients SET last_used_at = now() WHERE client_id = $1", client_id)


async def record_assertion(conn: asyncpg.Connection, client_id: str, jti: str, expires_at: int, now: float) -> bool:
    """Remember a used client assertion until it expires; False when it was used before.
    A row is forgotten a minute after its `exp` (past the 30 s leeway), when the assertion
    can no longer verify; `now` is the token clock, the one the assertion was checked by."""
    await conn.execute("DELETE FROM client_assertions WHERE expires_at < to_timestamp($1) - interval '1 minute'", now)
    return bool(
        await conn.fetchval(
            """
            INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
            ON CONFLICT DO NOTHING RETURNING true
            """,
            client_id,
            jti,
            expires_at,
        )
    )
