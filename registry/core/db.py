"""The connection pool and the one transaction each request runs in."""

from __future__ import annotations

import orjson
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg


def _json_encode(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=_json_encode, decoder=orjson.loads, schema="pg_catalog")


def asyncpg_dsn(url: str) -> str:
    """Accept SQLAlchemy-style URLs too (`postgresql+asyncpg://`)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


class Database:
    """Owns the asyncpg pool of one worker."""

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10) -> None:
        self.url = asyncpg_dsn(url)
        self._min_size = min_size
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.url, min_size=self._min_size, max_size=self._max_size, init=_init_connection
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool


AfterCommit = Callable[[], Awaitable[None] | None]


@dataclass
class Tx:
    """A connection inside the request's transaction, and work to do once it commits."""

    conn: asyncpg.Connection
    after_commit: list[AfterCommit] = field(default_factory=list)
    # NOTIFY channels this transaction announced on; the worker that made the change
    # reacts at once instead of waiting for its own notification to come back.
    notified: set[str] = field(default_factory=set)

    async def run_after_commit(self) -> None:
        for hook in self.after_commit:
            result = hook()
            if result is not None:
                await result
