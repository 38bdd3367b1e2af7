"""What a benchmark phase measures, the same way on every side: N concurrent workers loop
over queries for `warmup + duration` seconds; the queries that complete inside the window
(after the warm-up) count, with their latencies. And which query comes next: every side
asks the same sequence (`QueryPlan`), so they ask about the same borrowers, as the same
members, in the same order."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from bench.cpu import CpuSample

T = TypeVar("T")


@dataclass
class Measurement:
    """One phase: queries and subjects answered in the window, their latencies, failures."""

    name: str
    batch_size: int
    concurrency: int
    seconds: float
    queries: int = 0
    subjects: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    first_error: str | None = None
    cores: dict[str, float] = field(default_factory=dict)  # average cores busy in the window, by user

    @property
    def subjects_per_second(self) -> float:
        return self.subjects / self.seconds if self.seconds else 0.0

    @property
    def queries_per_second(self) -> float:
        return self.queries / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(sorted(self.latencies_ms), p)

    def cpu_ms_per_query(self, who: str) -> float:
        """Milliseconds of CPU `who` spent per query answered in the window."""
        qps = self.queries_per_second
        return self.cores.get(who, 0.0) / qps * 1000 if qps else float("nan")

    def summary(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        out.update(
            subjects_per_second=round(self.subjects_per_second, 1),
            queries_per_second=round(self.queries_per_second, 1),
            p50_ms=round(self.percentile(50), 2),
            p99_ms=round(self.percentile(99), 2),
        )
        return out

    @classmethod
    def from_summary(cls, summary: dict, latencies_ms: list[float]) -> Measurement:
        fields = {
            k: summary[k]
            for k in (
                "name",
                "batch_size",
                "concurrency",
                "seconds",
                "queries",
                "subjects",
                "errors",
                "first_error",
                "cores",
            )
        }
        return cls(**fields, latencies_ms=latencies_ms)

    @classmethod
    def combined(cls, name: str, parts: Sequence[Measurement]) -> Measurement:
        """Several windows of the same side as one: counts added, latencies pooled, cores
        averaged over the windows' time."""
        seconds = sum(m.seconds for m in parts)
        cores: dict[str, float] = {}
        for m in parts:
            for who, value in m.cores.items():
                cores[who] = cores.get(who, 0.0) + value * m.seconds / seconds
        return cls(
            name,
            parts[0].batch_size,
            parts[0].concurrency,
            seconds,
            queries=sum(m.queries for m in parts),
            subjects=sum(m.subjects for m in parts),
            errors=sum(m.errors for m in parts),
            latencies_ms=[x for m in parts for x in m.latencies_ms],
            first_error=next((m.first_error for m in parts if m.first_error), None),
            cores={who: round(value, 3) for who, value in cores.items()},
        )


def percentile(ordered: Sequence[float], p: float) -> float:
    """The `p`th percentile of sorted values (nearest rank); NaN for none."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass(frozen=True)
class QueryPlan:
    """Query number k of a phase, the same on every side: member `k % members` asks about
    slice `k % slices` of the query pool (consecutive, distinct subjects). Concurrent workers
    draw k from one counter; pgbench's clients compute it (bench/pgbench.py), so all sides
    walk the same sequence whatever their concurrency."""

    pool_size: int
    batch_size: int
    members: int

    def __post_init__(self) -> None:
        if self.batch_size > self.pool_size:
            raise ValueError(f"a batch of {self.batch_size} needs a query pool at least that large ({self.pool_size})")

    @property
    def slices(self) -> int:
        return self.pool_size // self.batch_size

    def member(self, k: int) -> int:
        return k % self.members

    def bounds(self, k: int) -> tuple[int, int]:
        start = (k % self.slices) * self.batch_size
        return start, start + self.batch_size


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed (uvicorn[standard] brings it): the clients on both sides
    of the comparison, and the service itself, then run on the same loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(main)
    return uvloop.run(main)


Query = Callable[[int], Awaitable[int]]  # query number k -> subjects answered; raises on failure


async def run_phase(
    name: str,
    query_factory: Callable[[int], Query],
    *,
    batch_size: int,
    concurrency: int,
    duration: float,
    warmup: float,
    cpu: Callable[[], CpuSample] | None = None,
) -> Measurement:
    """Drive `concurrency` workers; each builds its query once (`query_factory(worker)`) and
    runs query after query, numbered from one counter. `cpu` samples the machine at the start
    and the end of the window."""
    measurement = Measurement(name, batch_size, concurrency, duration)
    started = time.perf_counter()
    window_start, window_end = started + warmup, started + warmup + duration
    numbers = itertools.count()

    async def account_cpu() -> None:
        if cpu is None:
            return
        await asyncio.sleep(window_start - time.perf_counter())
        first = cpu()
        await asyncio.sleep(window_end - time.perf_counter())
        measurement.cores = cpu().cores_since(first)

    async def worker(index: int) -> None:
        query = query_factory(index)
        while (begin := time.perf_counter()) < window_end:
            try:
                answered = await query(next(numbers))
            except Exception as exc:
                measurement.errors += 1
                measurement.first_error = measurement.first_error or f"{type(exc).__name__}: {exc}"[:300]
                await asyncio.sleep(0.01)
                continue
            end = time.perf_counter()
            if window_start <= end <= window_end:
                measurement.queries += 1
                measurement.subjects += answered
                measurement.latencies_ms.append((end - begin) * 1000)

    await asyncio.gather(account_cpu(), *(worker(i) for i in range(concurrency)))
    return measurement
