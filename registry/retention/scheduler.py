"""The daily retention pass inside the service. Every instance checks hourly; a PostgreSQL
advisory lock lets one pass run at a time, and the audit log tells whether today's pass
already ran, so however many instances serve, the pass runs once a day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from registry.core import periodic
from registry.core.db import Database, Tx
from registry.retention import repository, service
from registry.retention.schemas import RetentionResult

logger = logging.getLogger(__name__)

RETENTION_LOCK = 0x5245_5445  # advisory lock key of the retention pass
CHECK_EVERY_SECONDS = 3600


async def run_if_due(db: Database, clock: Callable[[], datetime]) -> RetentionResult | None:
    """Run today's pass unless another instance is running it or it already ran today."""
    async with db.system_pool.acquire() as conn, conn.transaction():
        if not await repository.try_lock(conn, RETENTION_LOCK):
            return None
        now = clock()
        if await repository.ran_on(conn, now.date()):
            return None
        return await service.run_and_audit(Tx(conn), now=now, actor=service.SCHEDULER_ACTOR)


async def check(db: Database, clock: Callable[[], datetime]) -> None:
    result = await run_if_due(db, clock)
    if result is not None:
        logger.info("retention pass", extra={"records": result.records, "inquiries": result.inquiries})


def running(db: Database, clock: Callable[[], datetime], enabled: bool) -> AbstractAsyncContextManager[None]:
    """Check hourly, for the life of the app (when enabled), whether today's pass is due."""
    return periodic.every(CHECK_EVERY_SECONDS if enabled else 0, lambda: check(db, clock), "retention", run_first=True)
