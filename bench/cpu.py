"""Where the cores went during a measured window, from /proc (Linux; nothing elsewhere): the
client (the process driving the load), the service's worker processes, the PostgreSQL
backends serving the bench database, and the rest of the machine (other PostgreSQL
processes and whatever else runs there)."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def _process_seconds(pid: int) -> float:
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _machine_busy_seconds() -> float:
    try:
        values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, IndexError):
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def _backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `database` (by its process title)."""
    marker = f" {database} ".encode()
    out: dict[int, float] = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres:") and marker in title:
            out[int(entry.name)] = _process_seconds(int(entry.name))
    return out


@dataclass(frozen=True)
class CpuSample:
    wall: float
    machine: float
    client: float
    service: float
    backends: dict[int, float]

    @classmethod
    def take(cls, database: str, service_pids: Sequence[int] = ()) -> "CpuSample":
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(time.monotonic(), _machine_busy_seconds(), own.ru_utime + own.ru_stime,
                   sum(_process_seconds(pid) for pid in service_pids), _backends(database))

    def cores_since(self, earlier: "CpuSample") -> dict[str, float]:
        """Average cores busy between the two samples, by who used them."""
        wall = self.wall - earlier.wall
        if wall <= 0 or self.machine == 0:
            return {}
        postgres = sum(seconds - earlier.backends.get(pid, 0.0) for pid, seconds in self.backends.items())
        used = {
            "client": (self.client - earlier.client) / wall,
            "service": (self.service - earlier.service) / wall,
            "postgres": postgres / wall,
        }
        machine = (self.machine - earlier.machine) / wall
        used["other"] = max(0.0, machine - sum(used.values()))
        return {name: round(value, 2) for name, value in used.items()}
