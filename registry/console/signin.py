"""Rules of signing in to the console: the throttle (failures per account and per address in
a sliding window), the check of password and code, the new session, and the one audit row
each attempt leaves (`console.login` or `console.login.failed` with why, never a secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import asyncpg

from registry.audit.actions import AuditAction
from registry.audit.auditor import RequestAudit
from registry.console import repository, sessions, staff
from registry.runtime import Runtime


class Outcome(Enum):
    signed_in = 303
    refused = 401
    throttled = 429


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    session_token: str | None = None
    role: str | None = None


async def attempt(
    runtime: Runtime, audit: RequestAudit, *, email: str, password: str, code: str, address: str
) -> Attempt:
    settings, now = runtime.settings, runtime.clock()
    account = email.strip().lower()
    since = now - timedelta(seconds=settings.console_failure_window_seconds)
    async with runtime.db.pool.acquire() as conn:
        by_account, by_address = await repository.failures_since(conn, account, address, since)
        if by_account >= settings.console_failures_per_account or by_address >= settings.console_failures_per_address:
            audit.action = AuditAction.CONSOLE_LOGIN_FAILED
            audit.details["reason"] = "throttled"
            await audit.record(conn, Outcome.throttled.value)
            return Attempt(Outcome.throttled)
        async with conn.transaction():
            row, why = await staff.authenticate(conn, runtime.keys.server_key, email, password, code, now)
            if row is None:
                await repository.record_failure(conn, account, address, now)
                audit.action = AuditAction.CONSOLE_LOGIN_FAILED
                audit.details["reason"] = why
                await audit.record(conn, Outcome.refused.value)
                return Attempt(Outcome.refused)
            token = await sessions.open_session(conn, row.id, address, now)
            audit.action = AuditAction.CONSOLE_LOGIN
            audit.details["role"] = row.role
            await audit.record(conn, Outcome.signed_in.value)
    return Attempt(Outcome.signed_in, token, row.role)


async def forget_old(pool: asyncpg.Pool, now: datetime, keep: timedelta = timedelta(days=1)) -> None:
    """Failed sign-ins older than any window (periodically, with the rate counters)."""
    await repository.forget_failures(pool, now - keep)
