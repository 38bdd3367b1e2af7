"""HTTP of the scorecards: `GET /v1/scorecard` (any token of the member), and for the
association `GET /admin/stats/league` and `PUT/GET /admin/thresholds`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from registry.audit.actions import AuditAction
from registry.context import Admin, AnyMemberToken, audited
from registry.core.csv_export import csv_content, csv_response, wants_csv
from registry.core.errors import Forbidden, Invalid, Unauthenticated, problem_responses
from registry.scorecards import service
from registry.scorecards.schemas import LeagueSort, LeagueTable, Scorecard, Thresholds, ThresholdsPut

_FIGURES_EXAMPLE = {
    "live_accounts": 1840,
    "delinquency_rate": 0.087,
    "uncollected_rate": 0.31,
    "recovery_rate": 0.42,
    "reporting_age_days": 3,
    "disputes_upheld_share": 0.25,
}
BRANCH_EXAMPLE = {"branch_code": "SH-PUDONG-01", **_FIGURES_EXAMPLE}
LEAGUE_EXAMPLE = {
    "rank": 1,
    "code": "BANK001",
    "name": "Bank One",
    "member_id": "0b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "branches": 12,
    **_FIGURES_EXAMPLE,
}

router = APIRouter(prefix="/v1", tags=["scorecards"], responses=problem_responses(Unauthenticated, Forbidden))
admin_router = APIRouter(
    prefix="/admin", tags=["admin: scorecards"], responses=problem_responses(Unauthenticated, Forbidden)
)

AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


@router.get(
    "/scorecard",
    dependencies=[audited(AuditAction.SCORECARD_READ)],
    response_model=Scorecard,
    responses={
        **problem_responses(Invalid),
        **csv_content(
            "The scorecard; with `Accept: text/csv` its branches table as CSV",
            service.BRANCH_COLUMNS,
            BRANCH_EXAMPLE,
        ),
    },
    summary="Your collection figures against the industry, by branch and month",
    description=(
        "Open to any token of the member. `member`: live accounts, delinquency rate (delinquent / live), "
        "uncollected rate (uncollected / delinquent, by the one rule of docs/api.md), recovery rate (recovered / "
        "(recovered + overdue) over delinquent accounts), reporting age (days since the newest as_of) and the "
        "share of resolved disputes upheld. `industry`: the quartiles of each figure across reporting members "
        "(null under 5 of them; no member is identifiable); `percentile`: where you stand. `branches`: the same "
        "figures per branch, accounts reported without one under `branch_code: null`. `series`: one entry per "
        "month. Exact after every committed write. `Accept: text/csv` gives the branches table as CSV."
    ),
)
async def scorecard(
    ctx: AnyMemberToken,
    months: Annotated[int, Query(ge=1, le=24, description="Months in the series, the current one last")] = 12,
    accept: AcceptHeader = None,
) -> Response | Scorecard:
    card = await service.scorecard(ctx, months)
    if wants_csv(accept):
        return csv_response(service.BRANCH_COLUMNS, service.branch_rows(card), "branches.csv")
    return card


@admin_router.get(
    "/stats/league",
    dependencies=[audited(AuditAction.ADMIN_STATS_READ)],
    response_model=LeagueTable,
    responses={
        **problem_responses(Invalid),
        **csv_content("The league table; with `Accept: text/csv` as CSV", service.LEAGUE_COLUMNS, LEAGUE_EXAMPLE),
    },
    summary="Members ranked by a collection figure",
    description=(
        "Every reporting member with live accounts, ranked worst first on `sort`: highest uncollected rate, "
        "delinquency rate or reporting age, or lowest recovery rate; members without a value last. Each entry "
        "carries the scorecard's figures and the member's branch count. `Accept: text/csv` gives the table as CSV."
    ),
)
async def league(
    ctx: Admin,
    sort: Annotated[LeagueSort, Query(description="The figure to rank by")] = LeagueSort.uncollected_rate,
    accept: AcceptHeader = None,
) -> Response | LeagueTable:
    table = await service.league(ctx, sort)
    if wants_csv(accept):
        return csv_response(service.LEAGUE_COLUMNS, service.league_rows(table), "league.csv")
    return table


@admin_router.put(
    "/thresholds",
    dependencies=[audited(AuditAction.ADMIN_THRESHOLDS_SET)],
    responses=problem_responses(Invalid),
    summary="Set the association's limits on members' figures",
    description=(
        "The whole set: a figure left out has no limit. A member past a limit (above it; below it for "
        "recovery_rate) raises one `member.threshold_crossed` association alert per crossing, and "
        "`member.threshold_cleared` when it comes back; checked when its figures change and daily."
    ),
)
async def put_thresholds(body: ThresholdsPut, ctx: Admin) -> Thresholds:
    return await service.put_thresholds(ctx, body)


@admin_router.get(
    "/thresholds",
    dependencies=[audited(AuditAction.ADMIN_THRESHOLDS_READ)],
    summary="The association's limits on members' figures",
    description="The limits set with `PUT /admin/thresholds`; a figure without a limit is null.",
)
async def get_thresholds(ctx: Admin) -> Thresholds:
    return await service.get_thresholds(ctx)
