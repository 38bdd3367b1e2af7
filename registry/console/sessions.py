"""Console sessions: kept on the server, ended there. The cookie holds a random token; the
table holds its SHA-256, the session's CSRF token, and when it was made and last used. A
session ends after 30 minutes unused or 12 hours in all (settings), when its holder signs
out, or when the account is disabled or reset."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from registry.config import Environment, Settings
from registry.console import repository

COOKIE = "registry_console"
COOKIE_PATH = "/console"


@dataclass(frozen=True, slots=True)
class Staffer:
    """The person signed in to this request's session."""

    session_id: int
    staff_id: uuid.UUID
    email: str
    role: str
    csrf_token: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def open_session(conn: asyncpg.Connection, staff_id: uuid.UUID, address: str, now: datetime) -> str:
    """A new session; the cookie's value (shown to nobody else, stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    await repository.insert_session(conn, _hash(token), staff_id, secrets.token_urlsafe(32), address, now)
    return token


async def current(pool: asyncpg.Pool, token: str | None, now: datetime, settings: Settings) -> Staffer | None:
    """The live session of `token`, its idle clock restarted; None when there is none."""
    if not token or len(token) > 128:
        return None
    row = await repository.get_session(pool, _hash(token))
    if row is None or row.ended_at is not None or row.status != "active":
        return None
    idle = now - row.last_seen_at > timedelta(minutes=settings.console_idle_minutes)
    too_old = now - row.created_at > timedelta(hours=settings.console_absolute_hours)
    if idle or too_old:
        await repository.end_session(pool, row.id, now)
        return None
    await repository.touch_session(pool, row.id, now)
    return Staffer(row.id, row.staff_id, row.email, row.role, row.csrf_token)


async def end(pool: asyncpg.Pool | asyncpg.Connection, staffer: Staffer, now: datetime) -> None:
    await repository.end_session(pool, staffer.session_id, now)


def cookie_secure(scheme: str, settings: Settings) -> bool:
    return scheme == "https" or settings.env is Environment.production
