"""Small periodic jobs that run inside every service process for the life of the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

logger = logging.getLogger(__name__)


@asynccontextmanager
async def every(
    seconds: float, job: Callable[[], Awaitable[object]], name: str, *, run_first: bool = False
) -> AsyncIterator[None]:
    """Run `job` every `seconds` (never when 0) until the context ends, at once first when
    `run_first`; a failing run is logged and retried at the next tick, the service keeps serving."""

    async def loop() -> None:
        if not run_first:
            await asyncio.sleep(seconds)
        while True:
            try:
                await job()
            except Exception:
                logger.exception("periodic job failed", extra={"job": name})
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop(), name=name) if seconds > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
