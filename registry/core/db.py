"""Connections: the two pools of a worker (the request login, under row-level security, and
the service's own login for background work), a plain `connect()` for one-off work, and the
`Tx` a request's work runs in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from registry.core.errors import DatabaseUnavailable, database_unavailable_reason


def _json_encode(value: Any) -> str:
    return orjson.dumps(value).decode()


async def init_connection(conn: asyncpg.Connection) -> None:
    """What every connection of the service needs: json and jsonb as Python values (orjson)."""
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=_json_encode, decoder=orjson.loads, schema="pg_catalog")


class PoolConnection(asyncpg.Connection):
    """A pool connection that can skip asyncpg's reset round trip on release.

    By default asyncpg sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    whenever a connection goes back to the pool: a second round trip per request, about
    a sixth of the service's CPU on a single-subject exposure query. Work that leaves no
    session state behind (see `statements`) says so, and its release skips it. The pool
    still rolls back a transaction left open, and any other use is reset in full."""

    _leaves_no_session_state = False

    def leaves_no_session_state(self) -> None:
        self._leaves_no_session_state = True


async def reset_unless_stateless(conn: asyncpg.Connection) -> None:
    """The pools' `reset`: asyncpg's reset query, unless the use just ending left no session state."""
    if getattr(conn, "_leaves_no_session_state", False):
        conn._leaves_no_session_state = False  # type: ignore[attr-defined]
        return
    query = conn.get_reset_query()
    if query:
        await conn.execute(query)


@contextlib.asynccontextmanager
async def statements(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pool connection for statements that leave no session state: nothing beyond their
    transaction (no `SET` without `LOCAL`, `LISTEN`, session advisory lock, cursor `WITH
    HOLD` or temporary table). The row-level-security context is transaction-local and
    sealed to its transaction (migration 0011), so it cannot outlive one either. Released
    without the reset round trip when the work ends normally; reset in full when it raised.
    On a pool of plain connections (not `PoolConnection`, e.g. a benchmark's) it is `acquire()`."""
    async with pool.acquire() as conn:
        yield conn
        mark = getattr(conn, "leaves_no_session_state", None)  # absent on a plain pool's connection
        if mark is not None:
            mark()


async def connect(url: str, **kwargs: Any) -> asyncpg.Connection:
    """One connection, set up like the pools' (for the CLI, tests and one-off work)."""
    conn = await asyncpg.connect(asyncpg_dsn(url), **kwargs)
    await init_connection(conn)
    return conn


def with_user(url: str, user: str) -> str:
    """The same server and database, logging in as `user` (no password: the server must
    trust it, or the operator gives the request login its own URL)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(asyncpg_dsn(url))
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def asyncpg_dsn(url: str) -> str:
    """Accept SQLAlchemy-style URLs too (`postgresql+asyncpg://`)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
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


@contextlib.asynccontextmanager
async def held(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pool connection for work that sits idle between statements (an upload waiting on
    its body). When the server ends it meanwhile, asyncpg detaches it at once, and the next
    statement fails as if the connection had been released: that failure is said for what
    it is, a lost connection, and the request answers 503."""
    lost = False

    def on_loss(_: object) -> None:
        nonlocal lost
        lost = True

    async with pool.acquire() as conn:
        conn.add_termination_listener(on_loss)
        try:
            yield conn
        except asyncpg.InterfaceError as exc:
            await asyncio.sleep(0)  # the listener is called soon after the loss, not at once
            if lost:
                raise DatabaseUnavailable("the connection was lost") from exc
            raise
        finally:
            if not lost:
                conn.remove_termination_listener(on_loss)


class Database:
    """The pools of one worker: `pool` logs in as the request login (`registry_app` by
    default), under row-level security, whose transactions prove whose rows they may see
    (registry.core.tenancy); `system_pool` logs in as the service's own login, as the role
    that bypasses it, for background work (deliveries, retention, recovery) and
    association-wide statistics. The request login can never become the other role.

    The pools outlive the database server: a connection it drops (restart, crash,
    pg_terminate_backend) is replaced at the next acquire, and until the server answers
    again every acquire fails fast with `DatabaseUnavailable`."""

    def __init__(
        self,
        url: str,
        *,
        request_url: str | None = None,
        min_size: int = 2,
        max_size: int = 10,
        role: str | None = None,
        system_role: str | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = asyncpg_dsn(url)
        self.request_url = asyncpg_dsn(request_url) if request_url else with_user(self.url, role or "registry_app")
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
            self.request_url,
            min_size=self._min_size,
            max_size=self._max_size,
            init=init_connection,
            server_settings=settings(self._role),
            connect=connect_or_unavailable,
            timeout=self.connect_timeout,
            connection_class=PoolConnection,
            reset=reset_unless_stateless,
        )
        self._system_pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=4,
            init=init_connection,
            server_settings=settings(self._system_role),
            connect=connect_or_unavailable,
            timeout=self.connect_timeout,
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


# What makes a request login unsafe: it could read past row-level security itself, or
# become (SET ROLE) a role that can, or it owns the tables (owners may be exempt).
REQUEST_ROLE_PROBLEMS = """
SELECT array_remove(ARRAY[
    CASE WHEN r.rolsuper THEN 'is a superuser' END,
    CASE WHEN r.rolbypassrls THEN 'has BYPASSRLS' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM pg_roles b
        WHERE (b.rolsuper OR b.rolbypassrls) AND b.rolname <> session_user
          AND pg_has_role(session_user, b.oid, 'MEMBER')
    ) THEN 'can SET ROLE to a role that bypasses row-level security' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM pg_class c WHERE c.relname = 'records' AND c.relkind = 'r'
          AND pg_has_role(session_user, c.relowner, 'MEMBER')
    ) THEN 'owns the member tables' END
], NULL)
FROM pg_roles r WHERE r.rolname = session_user
"""


async def request_role_problems(conn: asyncpg.Connection | asyncpg.Pool) -> list[str]:
    """Why the login of `conn` could read past row-level security (empty: it cannot)."""
    return list(await conn.fetchval(REQUEST_ROLE_PROBLEMS) or [])


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
