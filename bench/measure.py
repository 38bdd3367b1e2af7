"""What a benchmark phase measures, the same way for the raw baseline and the service: N
concurrent workers loop over queries for `warmup + duration` seconds; the queries that
complete inside the window (after the warm-up) count, with their latencies. Also the pool
of query subjects both sides draw from, so they ask about the same borrowers."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from bench.cpu import CpuSample

T = TypeVar("T")

# A query about a borrower nobody reported (a first-time applicant) in this share.
UNKNOWN_SHARE = 0.1


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
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

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
    def from_summary(cls, summary: dict, latencies_ms: list[float]) -> "Measurement":
        fields = {k: summary[k] for k in ("name", "batch_size", "concurrency", "seconds", "queries", "subjects",
                                          "errors", "first_error", "cores")}
        return cls(**fields, latencies_ms=latencies_ms)


def query_pool(known: Sequence[str], unknown: Sequence[str], size: int, seed: int) -> list[str]:
    """`size` distinct tokens in a fixed random order: mostly reported borrowers, some unknown."""
    rng = random.Random(f"{seed}:queries")
    n_unknown = min(len(unknown), int(size * UNKNOWN_SHARE))
    chosen = rng.sample(list(known), min(len(known), size - n_unknown)) + list(unknown[:n_unknown])
    rng.shuffle(chosen)
    return chosen


class Slices:
    """Consecutive slices of the query pool (distinct within a slice), from a worker's own start."""

    def __init__(self, pool: Sequence, batch_size: int, start: int) -> None:
        if batch_size > len(pool):
            raise ValueError(f"a batch of {batch_size} needs a query pool at least that large ({len(pool)})")
        self._pool = pool
        self._batch = batch_size
        self._next = start % len(pool)

    def take(self) -> Sequence:
        start = self._next
        end = start + self._batch
        if end > len(self._pool):
            start, end = 0, self._batch
        self._next = end
        return self._pool[start:end]


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed (uvicorn[standard] brings it): the clients on both sides
    of the comparison, and the service itself, then run on the same loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(main)
    return uvloop.run(main)


Query = Callable[[int], Awaitable[int]]  # worker index -> subjects answered; raises on failure


async def run_phase(name: str, query_factory: Callable[[int], Query], *, batch_size: int, concurrency: int,
                    duration: float, warmup: float, cpu: Callable[[], CpuSample] | None = None) -> Measurement:
    """Drive `concurrency` workers; each builds its query once (`query_factory(worker)`).
    `cpu` samples the machine at the start and the end of the window."""
    measurement = Measurement(name, batch_size, concurrency, duration)
    started = time.perf_counter()
    window_start, window_end = started + warmup, started + warmup + duration

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
                answered = await query(index)
            except Exception as exc:  # noqa: BLE001 - a failed query is counted, not fatal
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
