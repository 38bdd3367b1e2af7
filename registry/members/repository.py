"""SQL of members and their API clients (association data: no member reads them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from registry.core import rows


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    quota_exposure_per_minute: int | None
    quota_writes_per_second: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ClientRow:
    client_id: str
    member_id: uuid.UUID
    name: str
    scopes: list[str]
    status: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    auth_method: str


MEMBER_COLUMNS = rows.columns(MemberRow)
CLIENT_COLUMNS = (
    "client_id, member_id, name, scopes, status, created_at, last_used_at, revoked_at, "
    "CASE WHEN public_jwk IS NULL THEN 'client_secret' ELSE 'private_key_jwt' END AS auth_method"
)


async def insert_member(
    conn: asyncpg.Connection, code: str, name: str, kind: str, exposure_quota: int | None, writes_quota: int | None
) -> MemberRow | None:
    return rows.one(
        MemberRow,
        await conn.fetchrow(
            f"""
        INSERT INTO members (code, name, kind, quota_exposure_per_minute, quota_writes_per_second)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (code) DO NOTHING
        RETURNING {MEMBER_COLUMNS}
        """,
            code,
            name,
            kind,
            exposure_quota,
            writes_quota,
        ),
    )


async def get_member(conn: asyncpg.Connection, member_id: uuid.UUID) -> MemberRow | None:
    return rows.one(MemberRow, await conn.fetchrow(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1", member_id))


async def get_member_by_code(conn: asyncpg.Connection, code: str) -> MemberRow | None:
    return rows.one(MemberRow, await conn.fetchrow(f"SELECT {MEMBER_COLUMNS} FROM members WHERE code = $1", code))


async def find_association(conn: asyncpg.Connection) -> MemberRow | None:
    return rows.one(
        MemberRow,
        await conn.fetchrow(
            f"SELECT {MEMBER_COLUMNS} FROM members WHERE kind = 'association' ORDER BY created_at LIMIT 1"
        ),
    )


async def list_members(
    conn: asyncpg.Connection, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[MemberRow]:
    return rows.many(
        MemberRow,
        await conn.fetch(
            f"""
        SELECT {MEMBER_COLUMNS} FROM members
        WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1, $2)
        ORDER BY created_at, id
        LIMIT $3
        """,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        ),
    )


async def update_member(conn: asyncpg.Connection, member_id: uuid.UUID, changes: dict[str, object]) -> MemberRow | None:
    # Column names come from the schema's own field names, never from input keys.
    allowed = {"status", "name", "quota_exposure_per_minute", "quota_writes_per_second"}
    columns = [c for c in changes if c in allowed]
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    sets = f"{assignments}, updated_at = now()" if assignments else "updated_at = updated_at"
    return rows.one(
        MemberRow,
        await conn.fetchrow(
            f"UPDATE members SET {sets} WHERE id = $1 RETURNING {MEMBER_COLUMNS}",
            member_id,
            *[changes[c] for c in columns],
        ),
    )


async def insert_client(
    conn: asyncpg.Connection,
    member_id: uuid.UUID,
    client_id: str,
    name: str,
    scopes: list[str],
    secret_hash: bytes | None,
    public_jwk: dict | None = None,
) -> ClientRow:
    return ClientRow(
        **await conn.fetchrow(
            f"""
        INSERT INTO api_clients (member_id, client_id, name, scopes, secret_hash, public_jwk)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING {CLIENT_COLUMNS}
        """,
            member_id,
            client_id,
            name,
            scopes,
            secret_hash,
            public_jwk,
        )
    )


async def list_clients(conn: asyncpg.Connection, member_id: uuid.UUID) -> list[ClientRow]:
    return rows.many(
        ClientRow,
        await conn.fetch(
            f"SELECT {CLIENT_COLUMNS} FROM api_clients WHERE member_id = $1 ORDER BY created_at, client_id", member_id
        ),
    )


async def first_admin_client(conn: asyncpg.Connection, member_id: uuid.UUID) -> ClientRow | None:
    return rows.one(
        ClientRow,
        await conn.fetchrow(
            f"""
        SELECT {CLIENT_COLUMNS} FROM api_clients
        WHERE member_id = $1 AND status = 'active' AND 'admin' = ANY(scopes)
        ORDER BY created_at LIMIT 1
        """,
            member_id,
        ),
    )


async def revoke_client(conn: asyncpg.Connection, client_id: str) -> ClientRow | None:
    return rows.one(
        ClientRow,
        await conn.fetchrow(
            f"""
        UPDATE api_clients SET status = 'revoked', revoked_at = coalesce(revoked_at, now())
        WHERE client_id = $1
        RETURNING {CLIENT_COLUMNS}
        """,
            client_id,
        ),
    )
