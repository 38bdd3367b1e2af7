"""Where the cores went during a measured window, from /proc (Linux; nothing elsewhere):

- client: the process driving the load (the bench itself, the load generator or pgbench);
- service: the service's processes;
- postgres: the bench database's server, when it runs on this machine: the backends serving
  the bench database, and the server's own background processes (WAL writer, checkpointer,
  autovacuum...), which work for the bench's writes;
- other: the rest of the machine's busy time (other programs, other databases' backends):
  the noise a reader must see next to the figures."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = "/proc"
# Process titles of a PostgreSQL server's own processes (`postgres: <title>`).
BACKGROUND = (
    b"checkpointer",
    b"background writer",
    b"walwriter",
    b"autovacuum launcher",
    b"archiver",
    b"logical replication launcher",
    b"stats collector",
    b"walsummarizer",
    b"io worker",
)


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # ppid; utime + stime


def process_seconds(pid: int) -> float:
    stat = _stat(pid)
    return stat[1] if stat else 0.0


def parent_of(pid: int) -> int | None:
    stat = _stat(pid)
    return stat[0] if stat else None


def _machine_busy_seconds() -> float:
    try:
        with open(f"{PROC}/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, IndexError, ValueError):
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def _postgres(database: str, postmaster: int | None) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of the backends serving `database` (by process title), and of the server's
    own processes (children of `postmaster` that serve no database, and the postmaster)."""
    marker = f" {database}".encode()
    backends: dict[int, float] = {}
    background: dict[int, float] = {}
    try:
        entries = os.listdir(PROC)
    except OSError:
        return backends, background
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"{PROC}/{entry}/cmdline", "rb") as handle:
                title = handle.read()
        except OSError:
            continue
        if not title.startswith(b"postgres:"):
            continue
        pid = int(entry)
        stat = _stat(pid)
        if stat is None:
            continue
        words = title[len(b"postgres:") :].replace(b"\0", b" ").strip()
        first, _, rest = words.partition(b" ")
        if first.endswith(b":"):  # a cluster name (`postgres: 15/main: checkpointer`)
            words = rest
        if (marker + b" " in b" " + words + b" ") and (postmaster is None or stat[0] == postmaster):
            backends[pid] = stat[1]
        elif postmaster is not None and stat[0] == postmaster and words.startswith(BACKGROUND):
            background[pid] = stat[1]
    if postmaster is not None:
        background[postmaster] = process_seconds(postmaster)
    return backends, background


@dataclass(frozen=True)
class CpuSample:
    wall: float
    machine: float
    client: float
    service: float
    backends: dict[int, float]
    background: dict[int, float]

    @classmethod
    def take(
        cls,
        database: str,
        service_pids: Sequence[int] = (),
        client_pids: Sequence[int] | None = None,
        postmaster: int | None = None,
    ) -> CpuSample:
        """`client_pids`: the client's processes; None: this process is the client."""
        if client_pids is None:
            own = resource.getrusage(resource.RUSAGE_SELF)
            client = own.ru_utime + own.ru_stime
        else:
            client = sum(process_seconds(pid) for pid in client_pids)
        backends, background = _postgres(database, postmaster)
        return cls(
            time.monotonic(),
            _machine_busy_seconds(),
            client,
            sum(process_seconds(pid) for pid in service_pids),
            backends,
            background,
        )

    def cores_since(self, earlier: CpuSample) -> dict[str, float]:
        """Average cores busy between the two samples, by who used them."""
        wall = self.wall - earlier.wall
        if wall <= 0 or self.machine == 0:
            return {}

        def spent(now: dict[int, float], before: dict[int, float]) -> float:
            return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())

        used = {
            "client": (self.client - earlier.client) / wall,
            "service": (self.service - earlier.service) / wall,
            "postgres": (spent(self.backends, earlier.backends) + spent(self.background, earlier.background)) / wall,
        }
        machine = (self.machine - earlier.machine) / wall
        used["other"] = max(0.0, machine - sum(used.values()))
        return {name: round(value, 3) for name, value in used.items()}


def postmaster_of(backend_pid: int) -> int | None:
    """The postmaster of a local server, from one of its backends' process ids (None when the
    server is not on this machine, or its processes are not visible)."""
    parent = parent_of(backend_pid)
    if parent is None:
        return None
    try:
        with open(f"{PROC}/{backend_pid}/cmdline", "rb") as handle:
            if not handle.read().startswith(b"postgres:"):
                return None
    except OSError:
        return None
    return parent
