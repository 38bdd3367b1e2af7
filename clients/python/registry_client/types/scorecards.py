"""Scorecards: a member's collection figures against the industry (`client.scorecard`), the
association's league table and the limits it sets on members' figures (`client.admin`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from registry_client.types._models import RequestModel, ResponseModel


class CollectionFigures(ResponseModel):
    """The scorecard's figures; a rate is a fraction (0.31 is 31 %), None without a base."""

    live_accounts: int = 0
    delinquency_rate: float | None = None
    uncollected_rate: float | None = None
    recovery_rate: float | None = None
    reporting_age_days: int | None = None
    disputes_upheld_share: float | None = None


class BranchCollectionFigures(CollectionFigures):
    """One branch's figures; `branch_code` None gathers the accounts reported without one."""

    branch_code: str | None = None


class MonthCollectionFigures(ResponseModel):
    """One month of the series (None before the registry kept the month's figures)."""

    month: str
    live_accounts: int | None = None
    delinquency_rate: float | None = None
    uncollected_rate: float | None = None
    recovery_rate: float | None = None
    reporting_age_days: int | None = None
    disputes_upheld_share: float | None = None


class IndustryQuartiles(ResponseModel):
    """Quartiles of each figure across reporting members (None under 5 of them)."""

    members: int = 0
    median: dict[str, float | None] = Field(default_factory=dict)
    p25: dict[str, float | None] = Field(default_factory=dict)
    p75: dict[str, float | None] = Field(default_factory=dict)


class Scorecard(ResponseModel):
    """`GET /v1/scorecard`: the member's figures, the industry's, where it stands
    (`percentile`, per figure), its branches and a monthly series, oldest month first."""

    as_of: datetime
    member: CollectionFigures
    industry: IndustryQuartiles
    percentile: dict[str, float | None] = Field(default_factory=dict)
    branches: list[BranchCollectionFigures] = Field(default_factory=list)
    series: list[MonthCollectionFigures] = Field(default_factory=list)


class LeagueSort(StrEnum):
    """The figure the league ranks by, worst first (lowest first for `recovery_rate`)."""

    UNCOLLECTED_RATE = "uncollected_rate"
    DELINQUENCY_RATE = "delinquency_rate"
    RECOVERY_RATE = "recovery_rate"
    REPORTING_AGE_DAYS = "reporting_age_days"


class LeagueEntry(CollectionFigures):
    rank: int
    member_id: str
    code: str
    name: str
    branches: int = 0


class LeagueTable(ResponseModel):
    """`GET /admin/stats/league`: every reporting member, ranked worst first on `sort`."""

    as_of: datetime
    sort: str
    members: list[LeagueEntry] = Field(default_factory=list)


class ThresholdsPut(RequestModel):
    """The whole set of limits: a figure left None has no limit."""

    delinquency_rate: float | None = Field(default=None, ge=0, le=1)
    uncollected_rate: float | None = Field(default=None, ge=0, le=1)
    recovery_rate: float | None = Field(default=None, ge=0, le=1)
    reporting_age_days: int | None = Field(default=None, ge=0, le=3650)


class Thresholds(ResponseModel):
    """The association's limits on members' figures (above them; below for `recovery_rate`)."""

    delinquency_rate: float | None = None
    uncollected_rate: float | None = None
    recovery_rate: float | None = None
    reporting_age_days: int | None = None
    updated_at: datetime | None = None
