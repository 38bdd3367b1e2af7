"""Closed-day rollups of inquiries: the background job that keeps them (`roll_up`), retention's
step that keeps them consistent (`forget_purged`), and the window reads that combine them with
a live count of what is not rolled up.

Inquiries are written at the current time and deleted only by retention, so a UTC day that
ended more than `SETTLING` ago never changes: its counts by member and purpose are rolled up
once into `inquiry_days`, and its hard (subject, member) pairs into `stacking_pairs`, with each
subject's number of members in `stacking_subjects` (registry/stats/models.py). The exposure
path is untouched. The inquiry window is today (UTC, up to now) and the 29 UTC days before it;
the figures read whole rolled-up days from the rollups and count the rest (the days not rolled
up yet and today) live, so they are exact whatever the job has done. When the maintained pairs
do not cover the window exactly (the job has not yet moved them at midnight, or has never
run), stacking is counted live over the whole window, as before the rollups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from registry.retention.policy import inquiries_cutoff
from registry.stats import repository

WINDOW_DAYS = 30
ROLLUP_LOCK = 0x5354_524C  # advisory lock key of the rollup job and retention's step
ROLLUP_EVERY_SECONDS = 60
# A day is rolled up once it ended this long ago: longer than any statement writing an
# inquiry can run, so no inquiry of it is still uncommitted.
SETTLING = timedelta(minutes=10)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class RollupState:
    """`inquiry_days` holds every day from `rolled_from` to `rolled_through`; the stacking
    tables hold the hard pairs of the days from `pairs_from` to `rolled_through`."""

    rolled_from: date
    rolled_through: date
    pairs_from: date


@dataclass(frozen=True)
class Coverage:
    """How a span from a day's start to now is read: whole days from the rollups (an empty
    range when first > last) and the rest live, from `live_since`."""

    rolled_days: tuple[date, date]
    live_since: datetime


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def window_start(now: datetime) -> date:
    """The first day of the inquiry window: today and the 29 days before it (UTC)."""
    return now.astimezone(UTC).date() - timedelta(days=WINDOW_DAYS - 1)


def last_closed_day(now: datetime) -> date:
    """The last day that can be rolled up at `now`."""
    return (now.astimezone(UTC) - SETTLING).date() - ONE_DAY


async def state(conn: asyncpg.Connection) -> RollupState | None:
    row = await repository.rollup_state(conn)
    return RollupState(**row) if row else None


def coverage(rollups: RollupState | None, first_day: date, now: datetime) -> Coverage:
    """Rollups for the whole days they hold from `first_day` on (only when they hold
    `first_day` and every day after it up to their last), live for the rest."""
    today = now.astimezone(UTC).date()
    if rollups is None or rollups.rolled_from > first_day or rollups.rolled_through < first_day:
        return Coverage((first_day, first_day - ONE_DAY), start_of(first_day))
    last = min(rollups.rolled_through, today - ONE_DAY)
    return Coverage((first_day, last), start_of(last + ONE_DAY))


async def inquiry_counts(conn: asyncpg.Connection, now: datetime, member_id: uuid.UUID | None) -> list[asyncpg.Record]:
    """Inquiries in the window by member and purpose."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        span = coverage(await state(conn), window_start(now), now)
        return await repository.inquiry_counts(conn, span.rolled_days, (span.live_since, now), member_id)


async def stacking(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    """Stacked subjects in the window: per member, and the industry's (NULL member)."""
    first = window_start(now)
    today = now.astimezone(UTC).date()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rollups = await state(conn)
        if rollups is None or rollups.pairs_from != first or rollups.rolled_through >= today:
            return await repository.stacking(conn, start_of(first), now)
        live_since = start_of(max(first, rollups.rolled_through + ONE_DAY))
        return await repository.stacking_maintained(conn, live_since, now)


async def monthly(
    conn: asyncpg.Connection, member_id: uuid.UUID, first_month: date, now: datetime
) -> dict[str, list[asyncpg.Record]]:
    """One member's series by month from `first_month` (registry/stats/service.py)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        span = coverage(await state(conn), first_month, now)
        return await repository.monthly(conn, member_id, first_month, span.rolled_days, span.live_since)


async def roll_up(pool: asyncpg.Pool, now: datetime) -> int:
    """Bring the rollups up to the last closed day, one short transaction per step (one day
    rolled up, or the pairs moved to a new window), each under the advisory lock so one
    instance works at a time; another instance's steps are never repeated, because each step
    reads the state under the lock. The first run starts at the retention cutoff (24 months),
    so it rolls up at most the days an inquiry can be kept. The days rolled up."""
    rolled = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            if not await repository.try_lock(conn, ROLLUP_LOCK):
                return rolled
            step = await _step(conn, now)
        if step is None:
            return rolled
        rolled += step


async def _step(conn: asyncpg.Connection, now: datetime) -> int | None:
    """One step of `roll_up`: 1 for a day rolled up, 0 for another change, None when current."""
    first_kept = inquiries_cutoff(now).astimezone(UTC).date()
    window = window_start(now)
    current = await state(conn)
    if current is None:
        current = RollupState(rolled_from=first_kept, rolled_through=first_kept - ONE_DAY, pairs_from=window)
        await _save(conn, current)
    if current.pairs_from < window:
        await repository.expire_pairs(conn, window)
        await _save(conn, RollupState(current.rolled_from, current.rolled_through, window))
        return 0
    day = current.rolled_through + ONE_DAY
    if day > last_closed_day(now):
        return None
    rolled_from = current.rolled_from
    if day < first_kept:  # behind the retention cutoff: what is older is gone or going
        await repository.forget_days_before(conn, first_kept)
        day = rolled_from = first_kept
    await repository.roll_day(conn, day)
    if day >= current.pairs_from:
        await repository.add_pairs(conn, day)
    await _save(conn, RollupState(rolled_from, day, current.pairs_from))
    return 1


async def _save(conn: asyncpg.Connection, rollups: RollupState) -> None:
    await repository.set_rollup_state(conn, rollups.rolled_from, rollups.rolled_through, rollups.pairs_from)


async def forget_purged(conn: asyncpg.Connection, inquiries_before: datetime) -> None:
    """Retention deleted the inquiries before `inquiries_before` in this transaction: delete
    the rollups of the days it emptied and count the day it cut into again. Waits for the
    job's step in progress (the same lock), so a day is never rolled up from rows half purged."""
    await repository.lock(conn, ROLLUP_LOCK)
    current = await state(conn)
    if current is None:
        return
    cut_day = inquiries_before.astimezone(UTC).date()
    await repository.forget_days_before(conn, cut_day)
    if cut_day > current.rolled_through:
        await _save(conn, RollupState(cut_day, cut_day - ONE_DAY, current.pairs_from))
        return
    if cut_day >= current.rolled_from:
        await repository.roll_day(conn, cut_day)
        await _save(conn, RollupState(cut_day, current.rolled_through, current.pairs_from))
