"""Rules of the statistics: what each figure means and how industry figures relate to the
members' (records and inquiries sum; disputes and stacked subjects are counted once).

Record figures come from the `record_tallies` ledger that triggers keep in step with every
write, so they are exact at every moment; `fold` keeps the ledger short (periodically, like
the other background jobs). Inquiry figures come from rollups of closed days plus a live
count of the rest (registry/stats/rollup.py), exact whatever the rollup job has done. The
aggregates are independent reads, so they run at once on separate pooled connections: the
answer takes as long as the slowest of them, not their sum (bench/stats.py). They may see a
few milliseconds' different snapshots, which statistics can afford."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.context import AssociationContext
from registry.core.db import Database
from registry.core.errors import NotFound
from registry.records.validation import format_minor
from registry.records.vocabulary import is_delinquent
from registry.retention.policy import months_before
from registry.stats import repository, rollup
from registry.stats.schemas import (
    DataQualityFigures,
    DisputeFigures,
    Figures,
    IndustryStats,
    InquiryFigures,
    MemberFigures,
    MemberStats,
    MonthFigures,
    RecordFigures,
)

WINDOW_DAYS = rollup.WINDOW_DAYS
FOLD_LOCK = 0x5354_4154  # advisory lock key of the ledger fold
FOLD_EVERY_SECONDS = 60
INDUSTRY = None  # the key of industry-wide figures among members' ids


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _amounts(sums: dict[str, int]) -> dict[str, str]:
    return {currency: format_minor(minor, currency) for currency, minor in sorted(sums.items()) if minor}


class _RecordTally:
    def __init__(self) -> None:
        self.by_product: dict[str, int] = defaultdict(int)
        self.by_status: dict[str, int] = defaultdict(int)
        self.delinquent = 0
        self.uncollected = 0
        self.overdue: dict[str, int] = defaultdict(int)
        self.uncollected_overdue: dict[str, int] = defaultdict(int)
        self.newest_as_of: date | None = None
        self.without_vehicle = 0

    def add(self, row: Any) -> None:
        currency = row["currency"].strip()
        self.by_product[row["product"]] += row["n"]
        self.by_status[row["status"]] += row["n"]
        if is_delinquent(row["status"]):
            self.delinquent += row["n"]
            self.overdue[currency] += row["overdue"]
        self.uncollected += row["uncollected"]
        self.uncollected_overdue[currency] += row["uncollected_overdue"]
        self.without_vehicle += row["without_vehicle"]

    def saw_as_of(self, as_of: date) -> None:
        if self.newest_as_of is None or as_of > self.newest_as_of:
            self.newest_as_of = as_of

    def figures(self, today: date) -> RecordFigures:
        live = sum(self.by_status.values())
        return RecordFigures(
            live=live,
            by_product=dict(sorted(self.by_product.items())),
            by_status=dict(sorted(self.by_status.items())),
            delinquent=self.delinquent,
            delinquency_rate=_rate(self.delinquent, live),
            uncollected=self.uncollected,
            uncollected_rate=_rate(self.uncollected, self.delinquent),
            overdue_delinquent=_amounts(self.overdue),
            overdue_uncollected=_amounts(self.uncollected_overdue),
            newest_as_of=self.newest_as_of,
            reporting_age_days=(today - self.newest_as_of).days if self.newest_as_of else None,
        )


def _disputes(row: Any | None) -> DisputeFigures:
    counts = {k: row[k] if row else 0 for k in ("received", "open", "overdue", "resolved", "upheld")}
    return DisputeFigures(**counts, upheld_share=_rate(counts["upheld"], counts["resolved"]))


def _inquiries(by_purpose: dict[str, int], stacked: int) -> InquiryFigures:
    return InquiryFigures(
        window_days=WINDOW_DAYS,
        by_purpose=dict(sorted(by_purpose.items())),
        per_day={p: round(n / WINDOW_DAYS, 2) for p, n in sorted(by_purpose.items())},
        stacked_subjects=stacked,
    )


async def _on(pool: asyncpg.Pool, query: Any, *args: Any) -> Any:
    async with pool.acquire() as conn:
        return await query(conn, *args)


async def _figures(
    pool: asyncpg.Pool, now: datetime, member_id: uuid.UUID | None
) -> tuple[list[Any], dict[Any, Figures]]:
    """Figures keyed by member id, and by INDUSTRY when no single member is asked for."""
    today = now.date()
    members, groups, newest, inquiry_rows, stacking_rows, dispute_rows = await asyncio.gather(
        _on(pool, repository.members, member_id),
        _on(pool, repository.record_groups, today, member_id),
        _on(pool, repository.newest_as_of, today, member_id),
        _on(pool, rollup.inquiry_counts, now, member_id),
        _on(pool, rollup.stacking, now),
        _on(pool, repository.disputes, now),
    )
    tallies: dict[Any, _RecordTally] = defaultdict(_RecordTally)
    for row in groups:
        tallies[row["member_id"]].add(row)
        if member_id is None:
            tallies[INDUSTRY].add(row)
    for row in newest:
        tallies[row["member_id"]].saw_as_of(row["as_of"])
        tallies[INDUSTRY].saw_as_of(row["as_of"])
    inquiries: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in inquiry_rows:
        inquiries[row["member_id"]][row["purpose"]] += row["n"]
        inquiries[INDUSTRY][row["purpose"]] += row["n"]
    stacked = {row["member_id"]: row["n"] for row in stacking_rows}
    disputes = {row["member_id"]: row for row in dispute_rows}
    keys = [m["id"] for m in members] + ([INDUSTRY] if member_id is None else [])
    figures = {
        key: Figures(
            records=tallies[key].figures(today),
            disputes=_disputes(disputes.get(key)),
            inquiries=_inquiries(inquiries[key], stacked.get(key, 0)),
            data_quality=DataQualityFigures(vehicle_accounts_without_collateral=tallies[key].without_vehicle),
        )
        for key in keys
    }
    return members, figures


def _member_figures(member: Any, figures: Figures) -> MemberFigures:
    return MemberFigures(
        member_id=member["id"], code=member["code"], name=member["name"], kind=member["kind"], **figures.model_dump()
    )


async def industry(ctx: AssociationContext) -> IndustryStats:
    ctx.audit.resource = "stats"
    return await industry_stats(ctx.runtime.db.system_pool, ctx.now)


async def industry_stats(pool: asyncpg.Pool, now: datetime) -> IndustryStats:
    """Every member's figures and the industry's, read on `pool` (the service's own login)."""
    members, figures = await _figures(pool, now, None)
    return IndustryStats(
        as_of=now, industry=figures[INDUSTRY], members=[_member_figures(m, figures[m["id"]]) for m in members]
    )


def _month_keys(now: datetime) -> list[date]:
    first = months_before(now, 11).date().replace(day=1)
    return [months_before(datetime(first.year, first.month, 1), -i).date() for i in range(12)]


async def member(ctx: AssociationContext, member_id: uuid.UUID) -> MemberStats:
    ctx.audit.resource = f"member:{member_id}"
    return await member_stats(ctx.runtime.db.system_pool, member_id, ctx.now)


async def member_stats(pool: asyncpg.Pool, member_id: uuid.UUID, now: datetime) -> MemberStats:
    """One member's figures with its 12-month series, read on `pool`."""
    months = _month_keys(now)
    (members, figures), series = await asyncio.gather(
        _figures(pool, now, member_id), _on(pool, rollup.monthly, member_id, months[0], now)
    )
    if not members:
        raise NotFound("No member with that id")
    by_month: dict[date, dict[str, Any]] = {
        m: {"month": m.strftime("%Y-%m"), "inquiries": {}, "new_delinquencies": 0, "disputes_received": 0}
        for m in months
    }
    for row in series["inquiries"]:
        if row["month"] in by_month:
            by_month[row["month"]]["inquiries"][row["purpose"]] = row["n"]
    for name in ("new_delinquencies", "disputes_received"):
        for row in series[name]:
            if row["month"] in by_month:
                by_month[row["month"]][name] = row["n"]
    return MemberStats(
        as_of=now,
        member=_member_figures(members[0], figures[member_id]),
        monthly=[MonthFigures.model_validate(by_month[m]) for m in months],
    )


async def fold(db: Database) -> int:
    """Fold the ledger of record tallies (one instance at a time); the rows folded."""
    async with db.system_pool.acquire() as conn, conn.transaction():
        if not await repository.try_lock(conn, FOLD_LOCK):
            return 0
        return await repository.fold_tallies(conn)


async def roll_up(db: Database, now: datetime) -> int:
    """Roll up the inquiries of the days closed by `now` (registry/stats/rollup.py); the days rolled up."""
    return await rollup.roll_up(db.system_pool, now)
