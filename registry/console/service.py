"""What the console's pages compute: the league table of members, the industry's 12-month
rates, and the operations overview. Reads only; changes go through each domain's service."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from registry.console import queries
from registry.health import service as health_service
from registry.health.schemas import Readiness
from registry.retention.policy import months_before
from registry.runtime import Runtime
from registry.scorecards.schemas import LeagueSort
from registry.scorecards.service import league_table
from registry.stats import service as stats_service
from registry.stats.schemas import IndustryStats

CHART_MONTHS = 12


@dataclass(frozen=True, slots=True)
class LeagueRow:
    rank: int
    code: str
    name: str
    kind: str
    live: int
    delinquency_rate: float | None
    uncollected_rate: float | None
    reporting_age_days: int | None
    upheld_share: float | None


async def industry(pool: asyncpg.Pool, now: datetime) -> IndustryStats:
    return await stats_service.industry_stats(pool, now)


async def league(pool: asyncpg.Pool, now: datetime, stats: IndustryStats) -> list[LeagueRow]:
    """Lenders ranked by uncollected rate, worst first (members without delinquencies last):
    the association's league table (registry/scorecards, `GET /admin/stats/league`)."""
    table = await league_table(pool, now, LeagueSort.uncollected_rate)
    kinds = {m.code: m.kind for m in stats.members}
    return [
        LeagueRow(
            rank=e.rank,
            code=e.code,
            name=e.name,
            kind=kinds.get(e.code, ""),
            live=e.live_accounts,
            delinquency_rate=e.delinquency_rate,
            uncollected_rate=e.uncollected_rate,
            reporting_age_days=e.reporting_age_days,
            upheld_share=e.disputes_upheld_share,
        )
        for e in table.members
    ]


LEAGUE_CSV_COLUMNS = (
    "rank",
    "code",
    "name",
    "kind",
    "live_records",
    "delinquency_rate",
    "uncollected_rate",
    "reporting_age_days",
    "disputes_upheld_share",
)


def league_csv(rows: list[LeagueRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEAGUE_CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.rank,
                r.code,
                r.name,
                r.kind,
                r.live,
                *("" if v is None else v for v in (r.delinquency_rate, r.uncollected_rate, r.reporting_age_days)),
                "" if r.upheld_share is None else r.upheld_share,
            ]
        )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class MonthPoint:
    month: str
    delinquency_rate: float | None
    uncollected_rate: float | None


def first_month(now: datetime, months: int = CHART_MONTHS) -> date:
    return months_before(now, months - 1).date().replace(day=1)


async def industry_series(conn: asyncpg.Connection, now: datetime) -> list[MonthPoint]:
    """The industry's delinquency rate (delinquent / live) and uncollected rate (uncollected /
    delinquent) at each of the last 12 months' ends, as reported by then."""
    rows = await queries.monthly_rates(conn, first_month(now), CHART_MONTHS)
    return [
        MonthPoint(
            month=r.month.strftime("%Y-%m"),
            delinquency_rate=round(r.delinquent / r.live, 4) if r.live else None,
            uncollected_rate=round(r.uncollected / r.delinquent, 4) if r.delinquent else None,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Operations:
    last_retention: queries.LastRetention | None
    uploads: list[queries.UploadLine]
    deliveries: list[queries.DeliveryLine]
    readiness: Readiness


async def operations(conn: asyncpg.Connection, runtime: Runtime, head_revision: str) -> Operations:
    return Operations(
        last_retention=await queries.last_retention(conn),
        uploads=await queries.recent_uploads(conn),
        deliveries=await queries.troubled_deliveries(conn),
        readiness=await health_service.readiness(runtime.db, head_revision),
    )
