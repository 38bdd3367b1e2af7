"""Rules of the scorecards: a member's figures against the industry's quartiles, by branch
and month; the league table; the association's thresholds, checked when a member's figures
change and daily, one association alert per crossing.

The aggregates are read on the service's own pool (as the statistics are): they cross
members, and only counts and sums come back. The request's transaction carries the audit row."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.context import AssociationContext, MemberContext
from registry.core.db import Database
from registry.monitoring import association
from registry.retention.policy import months_before
from registry.scorecards import repository
from registry.scorecards.figures import COMPARED, figures, percentile, quartiles
from registry.scorecards.repository import BranchGroup, DisputeCounts, NewestAsOf
from registry.scorecards.schemas import (
    BranchCollectionFigures,
    CollectionFigures,
    Industry,
    LeagueEntry,
    LeagueSort,
    LeagueTable,
    MonthCollectionFigures,
    Scorecard,
    ThresholdFigure,
    Thresholds,
    ThresholdsPut,
)

logger = logging.getLogger(__name__)

FOLD_LOCK = 0x5343_5244  # advisory lock key of the branch ledger fold
FOLD_EVERY_SECONDS = 60
# The daily check (snapshots of the month, thresholds) runs this often; every run is
# idempotent, so running it more than once a day only keeps the month's snapshot fresher.
DAILY_CHECK_SECONDS = 6 * 3600
# A threshold on recovery_rate is crossed by falling below it; the others by rising above.
CROSSED_BELOW = {ThresholdFigure.recovery_rate.value}


@dataclass
class _Book:
    """Everything counted about the members, as read once."""

    groups: dict[uuid.UUID, list[BranchGroup]]
    newest: dict[uuid.UUID, list[NewestAsOf]]
    disputes: dict[uuid.UUID, list[DisputeCounts]]

    def member_figures(self, member_id: uuid.UUID, today: date) -> CollectionFigures:
        newest = max((n.as_of for n in self.newest.get(member_id, [])), default=None)
        return figures(self.groups.get(member_id, []), newest, self.disputes.get(member_id, []), today)

    def branch_figures(self, member_id: uuid.UUID, today: date) -> list[BranchCollectionFigures]:
        by_branch: dict[str | None, list[BranchGroup]] = defaultdict(list)
        for g in self.groups.get(member_id, []):
            by_branch[g.branch_code].append(g)
        newest = {n.branch_code: n.as_of for n in self.newest.get(member_id, [])}
        disputes: dict[str | None, list[DisputeCounts]] = defaultdict(list)
        for d in self.disputes.get(member_id, []):
            disputes[d.branch_code].append(d)
        return [
            BranchCollectionFigures(
                branch_code=branch,
                **figures(by_branch[branch], newest.get(branch), disputes[branch], today).model_dump(),
            )
            for branch in sorted(by_branch, key=lambda b: (b is None, b or ""))
        ]


def _by_member(items: Sequence[Any]) -> dict[uuid.UUID, list[Any]]:
    out: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for item in items:
        out[item.member_id].append(item)
    return out


async def _on(pool: asyncpg.Pool, query: Any, *args: Any) -> Any:
    async with pool.acquire() as conn:
        return await query(conn, *args)


async def _read_book(pool: asyncpg.Pool, today: date, member_id: uuid.UUID | None) -> _Book:
    groups, newest, disputes = await asyncio.gather(
        _on(pool, repository.branch_groups, today, member_id),
        _on(pool, repository.newest_as_of, today, member_id),
        _on(pool, repository.dispute_counts, member_id),
    )
    return _Book(_by_member(groups), _by_member(newest), _by_member(disputes))


async def _peers(pool: asyncpg.Pool, book: _Book, today: date) -> list[tuple[Any, CollectionFigures]]:
    """Every reporting member (not the association) with live accounts, and its figures."""
    members = await _on(pool, repository.reporting_members)
    return [(m, book.member_figures(m.id, today)) for m in members if book.groups.get(m.id)]


def _month_keys(now: datetime, months: int) -> list[date]:
    first = months_before(now, months - 1).date().replace(day=1)
    return [months_before(datetime(first.year, first.month, 1), -i).date() for i in range(months)]


# --- the member's scorecard ---------------------------------------------------------------


async def scorecard(ctx: MemberContext, months: int) -> Scorecard:
    ctx.audit.resource = "scorecard"
    return await member_scorecard(ctx.runtime.db.system_pool, ctx.tenant.member_id, ctx.now, months)


async def member_scorecard(pool: asyncpg.Pool, member_id: uuid.UUID, now: datetime, months: int) -> Scorecard:
    """The member's figures, its branches and months, against the industry's quartiles."""
    today = now.date()
    keys = _month_keys(now, months)
    book, snapshots = await asyncio.gather(
        _read_book(pool, today, None), _on(pool, repository.months, member_id, keys[0])
    )
    peers = [f for _, f in await _peers(pool, book, today)]
    mine = book.member_figures(member_id, today)
    cuts = quartiles(peers)
    by_month = {row.month: row.figures for row in snapshots}
    by_month[keys[-1]] = mine.model_dump()  # the current month is live
    return Scorecard(
        as_of=now,
        member=mine,
        industry=Industry(members=len(peers), **cuts),
        percentile=percentile(mine, peers),
        branches=book.branch_figures(member_id, today),
        series=[MonthCollectionFigures(month=m.strftime("%Y-%m"), **by_month.get(m, {})) for m in keys],
    )


BRANCH_COLUMNS = ("branch_code", *COMPARED)


def branch_rows(card: Scorecard) -> list[dict[str, Any]]:
    return [b.model_dump() for b in card.branches]


# --- the association's league table -------------------------------------------------------


async def league(ctx: AssociationContext, sort: LeagueSort) -> LeagueTable:
    ctx.audit.resource = "league"
    ctx.audit.details["sort"] = sort.value
    return await league_table(ctx.runtime.db.system_pool, ctx.now, sort)


async def league_table(pool: asyncpg.Pool, now: datetime, sort: LeagueSort) -> LeagueTable:
    """Every reporting member ranked worst first on `sort` (lowest recovery, highest of the
    others), members without a value last, then by code."""
    today = now.date()
    book = await _read_book(pool, today, None)
    peers = await _peers(pool, book, today)
    sign = 1 if sort is LeagueSort.recovery_rate else -1

    def order(entry: tuple[Any, CollectionFigures]) -> tuple[bool, float, str]:
        value = getattr(entry[1], sort.value)
        return (value is None, sign * value if value is not None else 0.0, entry[0].code)

    ranked = sorted(peers, key=order)
    return LeagueTable(
        as_of=now,
        sort=sort,
        members=[
            LeagueEntry(
                rank=rank,
                member_id=m.id,
                code=m.code,
                name=m.name,
                branches=len({g.branch_code for g in book.groups[m.id] if g.branch_code is not None}),
                **f.model_dump(),
            )
            for rank, (m, f) in enumerate(ranked, 1)
        ],
    )


LEAGUE_COLUMNS = ("rank", "code", "name", "member_id", "branches", *COMPARED)


def league_rows(table: LeagueTable) -> list[dict[str, Any]]:
    return [e.model_dump() for e in table.members]


# --- thresholds ---------------------------------------------------------------------------


def _thresholds_out(rows: Sequence[repository.ThresholdRow]) -> Thresholds:
    limits: dict[str, float | int] = {r.figure: r.limit_value for r in rows}
    if "reporting_age_days" in limits:  # whole days
        limits["reporting_age_days"] = int(limits["reporting_age_days"])
    return Thresholds(**limits, updated_at=max((r.updated_at for r in rows), default=None))


async def get_thresholds(ctx: AssociationContext) -> Thresholds:
    ctx.audit.resource = "thresholds"
    return _thresholds_out(await repository.thresholds(ctx.conn))


async def put_thresholds(ctx: AssociationContext, body: ThresholdsPut) -> Thresholds:
    ctx.audit.resource = "thresholds"
    limits = {k: float(v) for k, v in body.model_dump().items() if v is not None}
    ctx.audit.details = {"limits": limits}
    stored = await repository.replace_thresholds(ctx.conn, limits)
    # Every member is looked at again once the new limits have committed.
    db = ctx.runtime.db
    ctx.tx.after_commit.append(lambda: check_in_background(db, ctx.now, None))
    return _thresholds_out(stored)


def _crossed(figure: str, value: float | None, limit: float) -> bool:
    if value is None:
        return False
    return value < limit if figure in CROSSED_BELOW else value > limit


async def check_thresholds(db: Database, now: datetime, member_id: uuid.UUID | None) -> int:
    """Compare one member's (or every member's) figures with the association's limits and
    raise one association alert per crossing: `member.threshold_crossed` when a figure goes
    past its limit, `member.threshold_cleared` when it comes back. A member still past its
    limit at the next check raises nothing. Returns the alerts raised."""
    pool = db.system_pool
    today = now.date()
    async with pool.acquire() as conn:
        limits = {t.figure: t.limit_value for t in await repository.thresholds(conn)}
    if not limits:
        return 0
    book = await _read_book(pool, today, member_id)
    peers = await _peers(pool, book, today)
    raised = 0
    async with pool.acquire() as conn:
        for member, member_figures in peers:
            if member_id is not None and member.id != member_id:
                continue
            for figure, limit in sorted(limits.items()):
                value = getattr(member_figures, figure)
                crossed = _crossed(figure, value, limit)
                async with conn.transaction():
                    if not await repository.flip_state(conn, member.id, figure, crossed):
                        continue
                    kind = association.THRESHOLD_CROSSED if crossed else association.THRESHOLD_CLEARED
                    await association.raise_association_alert(
                        conn,
                        kind,
                        member_id=member.id,
                        details={
                            "member": {"id": str(member.id), "code": member.code, "name": member.name},
                            "figure": figure,
                            "value": value,
                            "limit": limit,
                            "direction": "below" if figure in CROSSED_BELOW else "above",
                        },
                        at=now,
                    )
                    raised += 1
    return raised


async def check_thresholds_safely(db: Database, now: datetime, member_id: uuid.UUID | None) -> None:
    """check_thresholds after a write has committed: a failure here must not fail the write
    that succeeded (the daily check looks again)."""
    try:
        await check_thresholds(db, now, member_id)
    except Exception:
        logger.exception("threshold check failed")


# Checks started after a commit, kept referenced until they end.
_checks: set[asyncio.Task[None]] = set()


def check_in_background(db: Database, now: datetime, member_id: uuid.UUID | None) -> None:
    """Start check_thresholds_safely without making the request that caused it wait."""
    task = asyncio.create_task(check_thresholds_safely(db, now, member_id), name="threshold-check")
    _checks.add(task)
    task.add_done_callback(_checks.discard)


def figures_changed(ctx: MemberContext) -> None:
    """Call in a request that changed the member's records: once the change has committed,
    its figures are compared with the association's limits (in the background: the answer
    does not wait for it)."""
    db, now, member_id = ctx.runtime.db, ctx.now, ctx.tenant.member_id
    ctx.tx.after_commit.append(lambda: check_in_background(db, now, member_id))


# --- periodic work ------------------------------------------------------------------------


async def daily_check(db: Database, now: datetime) -> None:
    """Keep each member's figures of the month, then check every member against the limits
    (a member that crossed between writes, e.g. by reporting too rarely, is found here)."""
    today = now.date()
    pool = db.system_pool
    book = await _read_book(pool, today, None)
    month = today.replace(day=1)
    async with pool.acquire() as conn:
        for member, member_figures in await _peers(pool, book, today):
            await repository.save_month(conn, member.id, month, member_figures.model_dump())
    await check_thresholds(db, now, None)


async def fold(db: Database) -> int:
    """Fold the branch ledger (one instance at a time); the rows folded."""
    async with db.system_pool.acquire() as conn, conn.transaction():
        if not await repository.try_lock(conn, FOLD_LOCK):
            return 0
        return await repository.fold(conn)
