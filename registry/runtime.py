"""What one worker holds for its whole life: settings, keys, the pool, caches, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from registry.config import Settings
from registry.core.db import Database
from registry.core.keys import KeyRing


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keys: KeyRing
    clock: Callable[[], datetime] = field(default=utc_now)
    # Set by the auth package at start-up (avoids an import cycle).
    tokens: object | None = None
    credentials: object | None = None
    deliveries: object | None = None  # the webhook DeliveryWorker (registry.monitoring.delivery)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def runtime_dependency(request: Request) -> Runtime:
    # async: a plain `def` dependency would run in the thread pool on every request.
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_dependency)]
