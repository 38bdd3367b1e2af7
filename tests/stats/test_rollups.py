"""The inquiry rollups (registry/stats/rollup.py) give the figures the full queries give: the
window's counts by member and purpose, the stacked subjects and a member's monthly series
equal a count of the inquiries themselves (the oracle below) with the rollups current, behind,
stale at midnight and absent; the job is idempotent, runs one instance at a time and catches
up; retention keeps the day counts consistent.

On a database of this module's own, where the job runs only when a test says so: the shared
test database has inquiries written at clock times set back and forth."""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest

from registry.core import migrate
from registry.core.db import Tx, init_connection
from registry.retention import service as retention
from registry.stats import rollup
from tests.databases import create_database, drop_database, with_database

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PURPOSES = ("loan_application", "account_review", "collection", "dispute_investigation")

# The oracle: the figures counted from the inquiries alone, over the documented window (today
# and the 29 UTC days before it, up to now), as the statistics did before the rollups.
ORACLE_COUNTS = """
SELECT member_id, purpose, count(*) AS n FROM inquiries WHERE at >= $1 AND at <= $2 GROUP BY 1, 2
"""
ORACLE_STACKING = """
WITH recent AS (
    SELECT DISTINCT subject_key, member_id FROM inquiries WHERE hard AND at >= $1 AND at <= $2
), stacked AS (
    SELECT subject_key FROM recent GROUP BY subject_key HAVING count(*) >= 3
)
SELECT r.member_id, count(*) AS n FROM recent r JOIN stacked s USING (subject_key) GROUP BY r.member_id
UNION ALL
SELECT NULL, count(*) FROM stacked
"""
ORACLE_MONTHLY = """
SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date AS month, purpose, count(*) AS n
FROM inquiries WHERE member_id = $1 AND at >= ($2::date)::timestamp AT TIME ZONE 'UTC' GROUP BY 1, 2
"""


@pytest.fixture(scope="module")
async def pool(server_url):
    name = f"registry_rollups_{secrets.token_hex(4)}"
    await create_database(server_url, name)
    url = with_database(server_url, name)
    await asyncio.to_thread(migrate.upgrade, url)
    async with asyncpg.create_pool(url, min_size=1, max_size=4, init=init_connection) as db_pool:
        yield db_pool
    await drop_database(server_url, name)


@pytest.fixture
async def members(pool):
    """A clean slate of inquiries and rollups, and five members."""
    await pool.execute("TRUNCATE inquiries, inquiry_days, inquiry_rollup_state, stacking_pairs, stacking_subjects")
    ids = []
    for _ in range(5):
        code = "R" + secrets.token_hex(4).upper()
        ids.append(
            await pool.fetchval("INSERT INTO members (code, name, kind) VALUES ($1, $1, 'bank') RETURNING id", code)
        )
    return ids


def subject(n: int) -> bytes:
    return hashlib.sha256(f"subject-{n}".encode()).digest()


async def ask(pool, member_id: uuid.UUID, subject_key: bytes, at: datetime, purpose: str = "loan_application"):
    await pool.execute(
        "INSERT INTO inquiries (member_id, subject_key, purpose, hard, consent_ref, at) "
        "VALUES ($1, $2, $3, $4, 'C', $5)",
        member_id,
        subject_key,
        purpose,
        purpose == "loan_application",
        at,
    )


async def spread(pool, members, *, days: int = 75, count: int = 3000, seed: int = 7) -> None:
    """Inquiries at random moments over `days` before NOW's day and the day after, and on the
    edges: each midnight, a microsecond either side of it, and NOW itself."""
    rng = random.Random(seed)
    start = datetime.combine(NOW.date() - timedelta(days=days), time(), tzinfo=UTC)
    rows = []
    for _ in range(count):
        at = start + timedelta(seconds=rng.uniform(0, (days + 2) * 86400))
        rows.append((rng.choice(members), subject(rng.randrange(40)), rng.choice(PURPOSES), at))
    for d in range(days + 2):
        midnight = start + timedelta(days=d)
        for at in (midnight - timedelta(microseconds=1), midnight, midnight + timedelta(microseconds=1)):
            rows.append((rng.choice(members), subject(rng.randrange(40)), "loan_application", at))
    rows.append((members[0], subject(1), "loan_application", NOW))
    await pool.executemany(
        "INSERT INTO inquiries (member_id, subject_key, purpose, hard, consent_ref, at) "
        "VALUES ($1, $2, $3, $3 = 'loan_application', 'C', $4)",
        rows,
    )


async def figures(pool, now: datetime, member_id: uuid.UUID):
    first_month = date(now.year - 1, now.month, 1) if now.month < 12 else date(now.year, 1, 1)
    async with pool.acquire() as conn:
        counts = {tuple(r) for r in await rollup.inquiry_counts(conn, now, None)}
        stacked = {tuple(r) for r in await rollup.stacking(conn, now)}
        monthly = await rollup.monthly(conn, member_id, first_month, now)
    return counts, stacked, {tuple(r) for r in monthly["inquiries"]}, first_month


async def assert_exact(pool, now: datetime, member_id: uuid.UUID) -> None:
    counts, stacked, monthly, first_month = await figures(pool, now, member_id)
    since = rollup.start_of(rollup.window_start(now))
    assert counts == {tuple(r) for r in await pool.fetch(ORACLE_COUNTS, since, now)}, now
    assert stacked == {tuple(r) for r in await pool.fetch(ORACLE_STACKING, since, now)}, now
    assert monthly == {tuple(r) for r in await pool.fetch(ORACLE_MONTHLY, member_id, first_month)}, now


async def state(pool) -> rollup.RollupState | None:
    async with pool.acquire() as conn:
        return await rollup.state(conn)


MOMENTS = (
    NOW,
    datetime.combine(NOW.date(), time(0, 5), tzinfo=UTC),  # yesterday still settling
    datetime.combine(NOW.date(), time(0, 11), tzinfo=UTC),
    datetime.combine(NOW.date(), time(23, 59, 59, 999999), tzinfo=UTC),
    datetime.combine(NOW.date(), time(), tzinfo=UTC),
)


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%H:%M"))
async def test_figures_are_exact_with_the_rollups_absent_current_and_behind(pool, members, now):
    await spread(pool, members)
    await assert_exact(pool, now, members[0])  # absent: everything counted live
    assert await state(pool) is None
    await rollup.roll_up(pool, now - timedelta(days=5))  # behind by five days
    await assert_exact(pool, now, members[0])
    await rollup.roll_up(pool, now)  # current
    current = await state(pool)
    assert current.rolled_through == rollup.last_closed_day(now)
    assert current.pairs_from == rollup.window_start(now)
    await assert_exact(pool, now, members[0])
    for member_id in members[1:]:
        await assert_exact(pool, now, member_id)


async def test_the_window_has_30_days_today_included(pool, members):
    first = rollup.start_of(rollup.window_start(NOW))
    assert first == datetime(2026, 10, 30, tzinfo=UTC)
    a = members[0]
    await ask(pool, a, subject(1), first - timedelta(microseconds=1))  # the day before: out
    await ask(pool, a, subject(1), first)
    await ask(pool, a, subject(1), NOW)
    await ask(pool, a, subject(1), NOW + timedelta(seconds=1))  # after now: out
    for rolled in (False, True):
        if rolled:
            await rollup.roll_up(pool, NOW)
        async with pool.acquire() as conn:
            assert [tuple(r) for r in await rollup.inquiry_counts(conn, NOW, a)] == [(a, "loan_application", 2)]


async def test_stacking_across_rolled_up_and_live_days_as_pairs_enter_and_leave(pool, members):
    a, b, c, d, _ = members
    day = rollup.window_start(NOW)  # the window's first day at NOW

    def at(offset_days: int, hour: int = 10) -> datetime:
        return datetime.combine(day + timedelta(days=offset_days), time(hour), tzinfo=UTC)

    # x: a on the window's first day, b mid-window, c today: stacked only through today's.
    await ask(pool, a, subject(1), at(0))
    await ask(pool, b, subject(1), at(15))
    await ask(pool, c, subject(1), NOW - timedelta(hours=1))
    # y: a the day before the window (left it), b and c inside: stacked until a leaves.
    await ask(pool, a, subject(2), at(-1))
    await ask(pool, b, subject(2), at(3))
    await ask(pool, c, subject(2), at(20))
    # z: a asks again later, so its pair stays while its latest inquiry is in the window.
    await ask(pool, a, subject(3), at(-5))
    await ask(pool, a, subject(3), at(10))
    await ask(pool, b, subject(3), at(12))
    await ask(pool, d, subject(3), at(-3))
    await ask(pool, c, subject(3), at(25))
    # w: soft inquiries never count.
    for member_id in (a, b, c):
        await ask(pool, member_id, subject(4), at(5), purpose="account_review")

    await rollup.roll_up(pool, NOW)
    async with pool.acquire() as conn:
        rows = {tuple(r) for r in await rollup.stacking(conn, NOW)}
    assert rows == {(None, 2), (a, 2), (b, 2), (c, 2)}  # x and z
    # Day by day, from 40 days before NOW to 20 after, the job keeping up once a day.
    await pool.execute("TRUNCATE inquiry_days, inquiry_rollup_state, stacking_pairs, stacking_subjects")
    for offset in range(-40, 21):
        now = NOW + timedelta(days=offset)
        await rollup.roll_up(pool, now)
        await assert_exact(pool, now, a)
    assert await pool.fetchval("SELECT count(*) FROM stacking_pairs WHERE last_day < $1", rollup.window_start(now)) == 0


async def test_a_subject_reaching_three_members_only_through_todays_inquiries(pool, members):
    a, b, c, *_ = members
    await ask(pool, a, subject(1), NOW - timedelta(days=3))
    await ask(pool, b, subject(1), NOW - timedelta(days=2))
    await rollup.roll_up(pool, NOW)
    async with pool.acquire() as conn:
        assert {tuple(r) for r in await rollup.stacking(conn, NOW)} == {(None, 0)}
        await ask(pool, c, subject(1), NOW - timedelta(minutes=1))
        await ask(pool, a, subject(1), NOW - timedelta(minutes=1))  # a again, live: still one member
        assert {tuple(r) for r in await rollup.stacking(conn, NOW)} == {(None, 1), (a, 1), (b, 1), (c, 1)}
    assert await pool.fetchval("SELECT members FROM stacking_subjects WHERE subject_key = $1", subject(1)) == 2


async def test_stale_pairs_at_midnight_fall_back_to_the_full_count(pool, members):
    await spread(pool, members, seed=11)
    await rollup.roll_up(pool, NOW - timedelta(days=1))
    stale = await state(pool)
    assert stale.pairs_from < rollup.window_start(NOW)  # the job has not moved them yet
    await assert_exact(pool, NOW, members[1])


async def test_the_job_is_idempotent_and_catches_up(pool, members):
    await spread(pool, members, seed=3)
    first = await rollup.roll_up(pool, NOW - timedelta(days=10))
    # The first run starts at the retention cutoff: every day an inquiry may still be kept.
    assert (await state(pool)).rolled_from == date(2024, 11, 18)
    assert first == (date(2026, 11, 17) - date(2024, 11, 18)).days + 1
    tables = "SELECT (SELECT array_agg(t ORDER BY t) FROM {} t)"
    before = [await pool.fetchval(tables.format(t)) for t in ("inquiry_days", "stacking_pairs", "stacking_subjects")]
    assert await rollup.roll_up(pool, NOW - timedelta(days=10)) == 0
    after = [await pool.fetchval(tables.format(t)) for t in ("inquiry_days", "stacking_pairs", "stacking_subjects")]
    assert after == before
    assert await rollup.roll_up(pool, NOW) == 10  # caught up: ten days behind
    await assert_exact(pool, NOW, members[2])


async def test_one_instance_at_a_time(pool, members):
    await spread(pool, members, seed=5, days=40)
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute("SELECT pg_advisory_xact_lock($1)", rollup.ROLLUP_LOCK)
        assert await rollup.roll_up(pool, NOW) == 0  # another instance is at work: this one leaves
    assert await state(pool) is None
    # Two instances at once share the days between them, never rolling one twice.
    runs = await asyncio.gather(*(rollup.roll_up(pool, NOW) for _ in range(3)))
    assert sum(runs) == (rollup.last_closed_day(NOW) - (await state(pool)).rolled_from).days + 1
    await assert_exact(pool, NOW, members[0])


async def test_retention_keeps_the_day_counts_consistent(pool, members):
    await spread(pool, members, seed=9, days=30)
    later = NOW + timedelta(days=3, hours=5)
    cutoff = datetime(2024, 12, 1, 17, tzinfo=UTC)  # 24 months before `later`
    for n in range(40):  # two years and more ago, and either side of the cutoff on its day
        await ask(pool, members[n % 5], subject(n), NOW - timedelta(days=728 + n // 4, hours=n))
        await ask(pool, members[n % 5], subject(n), cutoff + timedelta(minutes=n - 20))
    await rollup.roll_up(pool, NOW)
    assert (await state(pool)).rolled_from == date(2024, 11, 28)
    async with pool.acquire() as conn, conn.transaction():
        result = await retention.run(Tx(conn), now=later)
    assert result.inquiries > 0
    assert result.inquiries_before == cutoff
    cut_day = cutoff.date()
    assert (await state(pool)).rolled_from == cut_day
    assert await pool.fetchval("SELECT count(*) FROM inquiry_days WHERE day < $1", cut_day) == 0
    # Each rolled-up day holds what the inquiries hold, the day retention cut into included.
    rolled = await pool.fetch("SELECT day, member_id, purpose, inquiries FROM inquiry_days ORDER BY 1, 2, 3")
    counted = await pool.fetch(
        "SELECT (at AT TIME ZONE 'UTC')::date AS day, member_id, purpose, count(*) AS inquiries FROM inquiries "
        "WHERE at < $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        rollup.start_of((await state(pool)).rolled_through + timedelta(days=1)),
    )
    assert [tuple(r) for r in rolled] == [tuple(r) for r in counted]
    await rollup.roll_up(pool, later)
    await assert_exact(pool, later, members[3])


async def test_a_member_sees_only_its_own_day_counts_and_retention_runs_as_the_request_login(pool, members):
    from registry.core.db import connect, with_user
    from registry.core.tenancy import Association, ContextProver, Member

    a, b, *_ = members
    await ask(pool, a, subject(1), NOW - timedelta(days=2))
    await ask(pool, b, subject(1), NOW - timedelta(days=2))
    await ask(pool, b, subject(2), datetime(2024, 12, 1, 16, tzinfo=UTC))  # before the cutoff below
    await rollup.roll_up(pool, NOW)
    prover = ContextProver(bytes(await pool.fetchval("SELECT key FROM registry_context_key")))
    url = with_user(pool._connect_args[0], "registry_app")  # type: ignore[attr-defined]
    conn = await connect(url)
    try:
        async with conn.transaction():
            await prover.enter(conn, Member(a), "test")
            assert {r["member_id"] for r in await conn.fetch("SELECT member_id FROM inquiry_days")} == {a}
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await prover.enter(conn, Member(a), "test")
                await conn.execute(
                    "INSERT INTO inquiry_days (day, member_id, purpose, inquiries) "
                    "VALUES ('2026-01-01', $1, 'collection', 9)",
                    b,
                )
        async with conn.transaction():  # the state is the association's alone
            await prover.enter(conn, Member(a), "test")
            assert await conn.fetch("SELECT * FROM inquiry_rollup_state") == []
        for table in ("stacking_pairs", "stacking_subjects"):  # who asked about whom: never the request login's
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await prover.enter(conn, Member(a), "test")
                    await conn.fetch(f"SELECT * FROM {table}")
        # An admin's retention pass (HTTP) runs as the request login in the association's context.
        async with conn.transaction():
            await prover.enter(conn, Association(a), "test")
            result = await retention.run(Tx(conn), now=NOW + timedelta(days=3, hours=5))
        assert result.inquiries == 1
        assert (await state(pool)).rolled_from == date(2024, 12, 1)
        assert await pool.fetchval("SELECT count(*) FROM inquiry_days WHERE day = '2024-12-01'") == 0
    finally:
        await conn.close()
    await assert_exact(pool, NOW, b)
