"""The connection pool and the one transaction each request runs in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from registry.core.errors import DatabaseUnavailable, database_unavailable_reason


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


def _unreachable(exc: OSError) -> str:
    """A failed connect in words a client may read (the OS message names the host or socket)."""
    if isinstance(exc, TimeoutError):
        return "connection timed out"
    if isinstance(exc, ConnectionRefusedError | FileNotFoundError):  # TCP, or a Unix socket's file gone
        return "connection refused"
    return "network error"


async def connect_or_unavailable(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """`asyncpg.connect`, where a server that cannot be reached (down, restarting, recovering,
    out of connections) is a `DatabaseUnavailable`: the request it serves answers 503."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except OSError as exc:
        raise DatabaseUnavailable(_unreachable(exc)) from exc
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = database_unavailable_reason(exc)
        if reason is None:
            raise
        raise DatabaseUnavailable(reason) from exc


class Database:
    """The pools of one worker: `pool` runs as the tenant-bound role (row-level security
    applies, the transaction says whose rows it may see); `system_pool` runs as the role
    that bypasses it, for the service's own background work (deliveries, retention,
    recovery) and association-wide statistics.

    The pools outlive the database server: a connection it drops (restart, crash,
    pg_terminate_backend) is replaced at the next acquire, and until the server answers
    again every acquire fails fast with `DatabaseUnavailable`."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        role: str | None = None,
        system_role: str | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = asyncpg_dsn(url)
        self.connect_timeout = connect_timeout
        self._min_size = min_size
        self._max_size = max_size
        self._role = role
        self._system_role = system_role
        self._pool: asyncpg.Pool | None = None
        self._system_pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        # The role is a startup parameter: RESET ROLE and the pool's RESET ALL return to it.
        def settings(role: str | None) -> dict[str, str] | None:
            return {"role": role} if role else None

        self._pool = await asyncpg.create_pool(
            self.url, min_size=self._min_size, max_size=self._max_size, init=_init_connection,
            server_settings=settings(self._role), connect=connect_or_unavailable, timeout=self.connect_timeout,
        )
        self._system_pool = await asyncpg.create_pool(
            self.url, min_size=1, max_size=4, init=_init_connection, server_settings=settings(self._system_role),
            connect=connect_or_unavailable, timeout=self.connect_timeout,
        )

    async def close(self) -> None:
        for pool in (self._pool, self._system_pool):
            if pool is not None:
                await pool.close()
        self._pool = self._system_pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool

    @property
    def system_pool(self) -> asyncpg.Pool:
        if self._system_pool is None:
            raise RuntimeError("database pool is not open")
        return self._system_pool


TENANT = "SELECT set_config('registry.member_id', $1, $3), set_config('registry.scope', $2, $3)"


async def set_tenant(
    conn: asyncpg.Connection, member_id: object | None, *, association: bool = False, local: bool = True
) -> None:
    """Whose rows this transaction (or, with local=False, this checked-out connection) sees."""
    await conn.execute(TENANT, str(member_id) if member_id else "", "association" if association else "", local)


@asynccontextmanager
async def as_association(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A cross-member step a member's transaction takes on purpose (alerts for other members'
    watches, a dispute covering other lenders' records): association scope for its
    statements only."""
    # The previous scope is read before it is set (the materialized CTE runs first), so an
    # admin's transaction stays association-wide and a member's goes back to its own rows.
    previous = await conn.fetchval(
        "WITH before AS MATERIALIZED (SELECT coalesce(current_setting('registry.scope', true), '') AS scope) "
        "SELECT scope FROM before, LATERAL (SELECT set_config('registry.scope', 'association', true)) s"
    )
    try:
        yield
    finally:
        await conn.execute("SELECT set_config('registry.scope', $1, true)", previous)


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
