"""The daily retention pass inside the service. Every instance checks hourly; a PostgreSQL
advisory lock lets one pass run at a time, and the audit log tells whether today's pass
already ran, so however many instances serve, the pass runs once a day."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

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


async def daily(db: Database, clock: Callable[[], datetime], every: float = CHECK_EVERY_SECONDS) -> None:
    while True:
        try:
            result = await run_if_due(db, clock)
            if result is not None:
                logger.info("retention pass", extra={"records": result.records, "inquiries": result.inquiries})
        except Exception:  # a failed pass is retried at the next check; the service keeps serving
            logger.exception("retention pass failed")
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def running(db: Database, clock: Callable[[], datetime], enabled: bool):  # type: ignore[no-untyped-def]
    """Run the daily loop for the life of the app (when enabled)."""
    task = asyncio.create_task(daily(db, clock)) if enabled else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
