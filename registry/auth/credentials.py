"""Whether a client may still act (and its member's quotas): cached per worker, invalidated across every worker and
instance by PostgreSQL NOTIFY, so revoking a client or suspending a member takes effect on
the next request without a database round trip on the hot path.

Without a live listener (it dropped, or is still connecting) nothing is cached and every
request asks the database, so a lost notification can never keep a revoked client alive."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from registry.auth import repository
from registry.core.db import Database, Tx

logger = logging.getLogger(__name__)

CHANNEL = "registry_credentials"
RECONNECT_MAX_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Standing:
    active: bool
    exposure_per_minute: int | None = None
    writes_per_second: int | None = None


REFUSED = Standing(active=False)


class CredentialStatus:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._active: dict[tuple[str, str], Standing] = {}
        self._generation = 0
        self._listener: asyncpg.Connection | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def start(self) -> None:
        if not await self._listen():
            self._schedule_reconnect()

    async def _listen(self) -> bool:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(self._db.url, timeout=self._db.connect_timeout)
            await conn.add_listener(CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_lost)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.warning("credential listener unavailable, checking the database on every request: %s", exc)
            if conn is not None:
                conn.terminate()
            return False
        if self._closing:
            await conn.close()
            return False
        self._listener = conn
        self.invalidate()
        return True

    async def close(self) -> None:
        self._closing = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        self._listener = None

    def invalidate(self) -> None:
        self._generation += 1
        self._active.clear()

    def _on_notify(self, *_: object) -> None:
        self.invalidate()

    def _on_lost(self, *_: object) -> None:
        self._listener = None
        self.invalidate()
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._closing or (self._reconnect is not None and not self._reconnect.done()):
            return

        async def retry() -> None:
            # Until the database is back, however long that takes (it may be restarting).
            delay = 1.0
            while not self._closing:
                await asyncio.sleep(delay)
                if await self._listen():
                    return
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

        self._reconnect = asyncio.get_running_loop().create_task(retry())

    async def standing(self, client_id: str, member_id: str) -> Standing:
        key = (client_id, member_id)
        if self.listening:
            cached = self._active.get(key)
            if cached is not None:
                return cached
        generation = self._generation
        row = await repository.client_standing(self._db.pool, client_id, member_id)
        standing = (
            Standing(bool(row.active), row.quota_exposure_per_minute, row.quota_writes_per_second)
            if row is not None
            else REFUSED
        )
        # A notification that arrived during the lookup makes its answer stale: do not keep it.
        if self.listening and generation == self._generation:
            self._active[key] = standing
        return standing


async def announce_change(tx: Tx) -> None:
    """Tell every worker, once this transaction commits, that some client's standing changed."""
    await tx.conn.execute(f"NOTIFY {CHANNEL}")
    tx.notified.add(CHANNEL)
