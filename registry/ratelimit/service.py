"""Quotas and throttles: fixed windows, answered with 429 problems that carry Retry-After
and the RateLimit-Policy / RateLimit headers of draft-ietf-httpapi-ratelimit-headers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from registry.core.errors import RateLimited
from registry.ratelimit import repository


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window_seconds: int

    def window_start(self, now: datetime) -> datetime:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % self.window_seconds, tz=now.tzinfo)

    def reset_in(self, now: datetime) -> int:
        elapsed = now.timestamp() % self.window_seconds
        return max(1, math.ceil(self.window_seconds - elapsed))

    def headers(self, now: datetime, used: int) -> dict[str, str]:
        remaining = max(0, self.quota - used)
        return {
            "RateLimit-Policy": f'"{self.name}";q={self.quota};w={self.window_seconds}',
            "RateLimit": f'"{self.name}";r={remaining};t={self.reset_in(now)}',
        }

    def refusal(self, now: datetime, used: int, detail: str) -> RateLimited:
        headers = self.headers(now, used)
        headers["Retry-After"] = str(self.reset_in(now))
        return RateLimited(detail, headers=headers)


async def consume(
    pool: asyncpg.Pool | asyncpg.Connection, policy: Policy, key: str, now: datetime, amount: int = 1
) -> int:
    """Count `amount` hits; raise RateLimited when the window's total passes the quota."""
    used = await repository.hit(pool, f"{policy.name}:{key}", policy.window_start(now), amount)
    if used > policy.quota:
        raise policy.refusal(now, used, f"Over the {policy.name} limit of {policy.quota} per {policy.window_seconds} s")
    return used


async def check(pool: asyncpg.Pool, policies: list[tuple[Policy, str]], now: datetime) -> None:
    """Raise RateLimited when any (policy, key) has already used its quota; counts nothing."""
    by_window: dict[datetime, list[tuple[Policy, str]]] = {}
    for policy, key in policies:
        by_window.setdefault(policy.window_start(now), []).append((policy, key))
    for window, entries in by_window.items():
        used = await repository.totals(pool, [f"{p.name}:{k}" for p, k in entries], window)
        for policy, key in entries:
            hits = used.get(f"{policy.name}:{key}", 0)
            if hits >= policy.quota:
                raise policy.refusal(now, hits, "Too many failed attempts; wait before trying again")


async def count(pool: asyncpg.Pool, policies: list[tuple[Policy, str]], now: datetime) -> None:
    for policy, key in policies:
        await repository.hit(pool, f"{policy.name}:{key}", policy.window_start(now))


async def forget_old(pool: asyncpg.Pool, now: datetime, keep: timedelta = timedelta(hours=1)) -> None:
    await repository.forget_before(pool, now - keep)
