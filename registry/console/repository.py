"""SQL of the console's own tables: staff accounts, sessions and failed sign-ins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from registry.core.rows import columns, many, one


@dataclass(frozen=True, slots=True)
class StaffRow:
    id: uuid.UUID
    email: str
    role: str
    status: str
    password_hash: str
    totp_sealed: bytes
    totp_last_step: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    staff_id: uuid.UUID
    email: str
    role: str
    status: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


STAFF_COLUMNS = columns(StaffRow)


async def insert_staff(
    conn: asyncpg.Connection, email: str, role: str, password_hash: str, totp_sealed: bytes
) -> StaffRow | None:
    row = await conn.fetchrow(
        f"""
        INSERT INTO staff (email, role, password_hash, totp_sealed) VALUES ($1, $2, $3, $4)
        ON CONFLICT (email) DO NOTHING RETURNING {STAFF_COLUMNS}
        """,
        email,
        role,
        password_hash,
        totp_sealed,
    )
    return one(StaffRow, row)


async def get_staff(conn: asyncpg.Connection, email: str) -> StaffRow | None:
    return one(StaffRow, await conn.fetchrow(f"SELECT {STAFF_COLUMNS} FROM staff WHERE email = $1", email))


async def list_staff(conn: asyncpg.Connection) -> list[StaffRow]:
    rows = await conn.fetch(f"SELECT {STAFF_COLUMNS} FROM staff ORDER BY email")
    return many(StaffRow, rows)


async def set_status(conn: asyncpg.Connection, email: str, status: str) -> StaffRow | None:
    row = await conn.fetchrow(
        f"UPDATE staff SET status = $2, updated_at = now() WHERE email = $1 RETURNING {STAFF_COLUMNS}", email, status
    )
    return one(StaffRow, row)


async def reset_credentials(
    conn: asyncpg.Connection, email: str, password_hash: str, totp_sealed: bytes
) -> StaffRow | None:
    row = await conn.fetchrow(
        f"""
        UPDATE staff SET password_hash = $2, totp_sealed = $3, totp_last_step = 0, updated_at = now()
        WHERE email = $1 RETURNING {STAFF_COLUMNS}
        """,
        email,
        password_hash,
        totp_sealed,
    )
    return one(StaffRow, row)


async def use_totp_step(conn: asyncpg.Connection, staff_id: uuid.UUID, step: int) -> bool:
    """Mark `step` used; False when it (or a later one) was used already: a code works once."""
    status = await conn.execute(
        "UPDATE staff SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2", staff_id, step
    )
    return status.endswith(" 1")


async def end_sessions_of(conn: asyncpg.Connection, staff_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("UPDATE staff_sessions SET ended_at = $2 WHERE staff_id = $1 AND ended_at IS NULL", staff_id, at)


async def insert_session(
    conn: asyncpg.Connection, token_hash: bytes, staff_id: uuid.UUID, csrf_token: str, address: str, at: datetime
) -> None:
    await conn.execute(
        """
        INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, address, created_at, last_seen_at)
        VALUES ($1, $2, $3, $4, $5, $5)
        """,
        token_hash,
        staff_id,
        csrf_token,
        address,
        at,
    )


async def get_session(conn: asyncpg.Connection | asyncpg.Pool, token_hash: bytes) -> SessionRow | None:
    row = await conn.fetchrow(
        """
        SELECT s.id, s.staff_id, st.email, st.role, st.status, s.csrf_token, s.created_at, s.last_seen_at, s.ended_at
        FROM staff_sessions s JOIN staff st ON st.id = s.staff_id
        WHERE s.token_hash = $1
        """,
        token_hash,
    )
    return one(SessionRow, row)


async def touch_session(conn: asyncpg.Connection | asyncpg.Pool, session_id: int, at: datetime) -> None:
    await conn.execute("UPDATE staff_sessions SET last_seen_at = $2 WHERE id = $1", session_id, at)


async def end_session(conn: asyncpg.Connection | asyncpg.Pool, session_id: int, at: datetime) -> None:
    await conn.execute("UPDATE staff_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL", session_id, at)


async def record_failure(conn: asyncpg.Connection | asyncpg.Pool, email: str, address: str, at: datetime) -> None:
    await conn.execute("INSERT INTO staff_login_failures (email, address, at) VALUES ($1, $2, $3)", email, address, at)


async def failures_since(
    conn: asyncpg.Connection | asyncpg.Pool, email: str, address: str, since: datetime
) -> tuple[int, int]:
    """Failed sign-ins since `since`: (for this account, from this address)."""
    row = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM staff_login_failures WHERE email = $1 AND at > $3) AS by_account,
               (SELECT count(*) FROM staff_login_failures WHERE address = $2 AND at > $3) AS by_address
        """,
        email,
        address,
        since,
    )
    return row["by_account"], row["by_address"]


async def forget_failures(conn: asyncpg.Connection | asyncpg.Pool, before: datetime) -> None:
    await conn.execute("DELETE FROM staff_login_failures WHERE at < $1", before)
