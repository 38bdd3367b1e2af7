"""Rules of readiness: the database answers within a bound, and is migrated to this code's head."""

from __future__ import annotations

import asyncio

from registry.core.db import Database
from registry.core.errors import database_unavailable_reason
from registry.core.migrate import current_revision
from registry.health.schemas import Readiness

# A readiness probe answers within this, even when the pool waits on a busy or dead server.
READY_CHECK_SECONDS = 5.0


async def readiness(db: Database, expected: str) -> Readiness:
    current, database, reason = None, "ok", None
    try:
        async with asyncio.timeout(READY_CHECK_SECONDS):
            current = await current_revision(db.pool)
    except TimeoutError:
        database, reason = "unreachable", "no answer within the readiness check"
    except Exception as exc:
        reason = database_unavailable_reason(exc)
        database = "unreachable" if reason else "error"
        reason = reason or type(exc).__name__
    ready = database == "ok" and current == expected
    if database == "ok" and not ready:
        reason = "migrations are not at the expected revision"
    return Readiness(
        status="ready" if ready else "not ready",
        database=database,
        reason=reason,
        migration=current,
        expected_migration=expected,
    )
