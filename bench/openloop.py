"""The open-loop load generator, run as its own process (`python -m bench.openloop CONFIG`):
`POST /v1/exposure` at a fixed offered rate with Poisson arrivals, whatever the service's
answers do, so queueing shows in the latencies instead of slowing the sender down.

The arrival times are drawn before the run (exponential gaps at `rate`, from `seed`). Each
request is sent at its time on an idle keep-alive connection, or on a new one up to
`max_connections`; past that it waits for one. Its latency runs from its *scheduled* time
to the end of the answer, so time spent waiting in the generator counts (no coordinated
omission). Request number k asks what every side's query k asks (bench.measure.QueryPlan).
Requests scheduled in the window (after the warm-up) count. The generator reports how late
it dispatched requests (its own lag, which must stay small for the figures to hold), and
the cores used in the window, by user. Prints JSON on stdout.

CONFIG is a JSON file: host, port, access_tokens, subjects_file, name, batch_size, rate,
duration, warmup, seed, max_connections, timeout, consent_ref, database, service_pids,
postmaster."""

from __future__ import annotations

import asyncio
import collections
import json
import random
import sys
from pathlib import Path
from typing import Any

from bench.cpu import CpuSample
from bench.loadgen import Connection, body_of, request_heads
from bench.measure import QueryPlan, percentile, run_loop

START_DELAY = 0.5  # seconds between drawing the schedule and its first moment


def schedule(rate: float, seconds: float, seed: int) -> list[float]:
    """Arrival times in [0, seconds) of a Poisson process of `rate` per second."""
    rng = random.Random(seed)
    times: list[float] = []
    t = rng.expovariate(rate)
    while t < seconds:
        times.append(t)
        t += rng.expovariate(rate)
    return times


class Connections:
    """Idle keep-alive connections; a new one when none is idle, up to a cap; then a queue."""

    def __init__(self, host: str, port: int, cap: int) -> None:
        self.host, self.port, self.cap = host, port, cap
        self.idle: list[Connection] = []
        self.opened = 0
        self.waiting: collections.deque[asyncio.Future] = collections.deque()

    async def prewarm(self, count: int) -> None:
        fresh = [Connection(self.host, self.port) for _ in range(min(count, self.cap))]
        await asyncio.gather(*(c.open() for c in fresh))
        self.idle.extend(fresh)
        self.opened += len(fresh)

    async def acquire(self) -> Connection:
        if self.idle:
            return self.idle.pop()
        if self.opened < self.cap:
            self.opened += 1
            return Connection(self.host, self.port)
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        return await waiter

    def release(self, connection: Connection) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.idle.append(connection)

    async def close(self) -> None:
        for connection in self.idle:
            await connection.close()


async def drive(config: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    tokens = Path(config["subjects_file"]).read_text().split()  # noqa: ASYNC240 - read once, before any load
    heads = request_heads(config["host"], config["port"], config["access_tokens"])
    plan = QueryPlan(len(tokens), config["batch_size"], len(heads))
    warmup, duration, rate = config["warmup"], config["duration"], config["rate"]
    times = schedule(rate, warmup + duration, config["seed"])
    pool = Connections(config["host"], config["port"], config["max_connections"])
    await pool.prewarm(min(config["max_connections"], 32))
    timeout = config["timeout"]
    latencies: list[float | None] = [None] * len(times)  # ms from the scheduled time; None: failed
    lags: list[float] = []
    errors: list[str] = []
    in_flight = 0
    most_in_flight = 0

    def cpu() -> CpuSample:
        return CpuSample.take(config["database"], config["service_pids"], postmaster=config.get("postmaster"))

    async def send(k: int, due: float) -> None:
        nonlocal in_flight, most_in_flight
        lags.append((loop.time() - due) * 1000)
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        connection = await pool.acquire()
        start, end = plan.bounds(k)
        body = body_of(tokens[start:end], config["consent_ref"])
        try:
            status, payload = await asyncio.wait_for(connection.post(heads[plan.member(k)], body), timeout)
            if status == 200:
                latencies[k] = (loop.time() - due) * 1000
            else:
                errors.append(f"HTTP {status}: {payload[:200]!r}")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            await connection.close()  # its state is unknown: the next request opens it afresh
        finally:
            in_flight -= 1
            pool.release(connection)

    base = loop.time() + START_DELAY
    window_start, window_end = base + warmup, base + warmup + duration
    cores: dict[str, float] = {}

    async def account_cpu() -> None:
        await asyncio.sleep(window_start - loop.time())
        first = cpu()
        await asyncio.sleep(window_end - loop.time())
        cores.update(cpu().cores_since(first))

    accounting = asyncio.create_task(account_cpu())
    tasks = []
    k = 0
    while k < len(times):
        now = loop.time()
        while k < len(times) and base + times[k] <= now:
            tasks.append(asyncio.create_task(send(k, base + times[k])))
            k += 1
        if k < len(times):
            await asyncio.sleep(max(0.0, base + times[k] - loop.time()))
    await asyncio.gather(*tasks)
    await accounting
    await pool.close()

    counted = [i for i, t in enumerate(times) if warmup <= t < warmup + duration]
    done = sorted(latencies[i] for i in counted if latencies[i] is not None)  # type: ignore[misc]
    failed = sum(1 for i in counted if latencies[i] is None)
    ordered_lags = sorted(lags)
    return {
        "name": config["name"],
        "batch_size": plan.batch_size,
        "rate": rate,
        "duration": duration,
        "scheduled": len(counted),
        "answered": len(done),
        "failed": failed,
        "errors_total": len(errors),
        "first_error": errors[0] if errors else None,
        "p50_ms": percentile(done, 50),
        "p95_ms": percentile(done, 95),
        "p99_ms": percentile(done, 99),
        "max_ms": done[-1] if done else float("nan"),
        "lag_p99_ms": percentile(ordered_lags, 99),
        "lag_max_ms": ordered_lags[-1] if ordered_lags else float("nan"),
        "connections": pool.opened,
        "most_in_flight": most_in_flight,
        "cores": cores,
        "latencies_ms": done,
    }


def main(argv: list[str]) -> None:
    config = json.loads(Path(argv[1]).read_text())
    sys.stdout.write(json.dumps(run_loop(drive(config))))


if __name__ == "__main__":
    main(sys.argv)
