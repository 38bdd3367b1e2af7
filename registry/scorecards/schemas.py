"""API shapes of the scorecards, the league table, thresholds and association alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from registry.core.schemas import RequestModel

FIGURES_EXAMPLE = {
    "live_accounts": 20412,
    "delinquency_rate": 0.0825,
    "uncollected_rate": 0.3112,
    "recovery_rate": 0.1840,
    "reporting_age_days": 3,
    "disputes_upheld_share": 0.25,
}


class CollectionFigures(BaseModel):
    """A member's (or a branch's) collection figures over its live accounts."""

    live_accounts: int = Field(description="Live accounts: neither withdrawn, expired nor suppressed")
    delinquency_rate: float | None = Field(description="delinquent / live (null without accounts)")
    uncollected_rate: float | None = Field(
        description="uncollected / delinquent (the one rule, docs/api.md; null without delinquencies)"
    )
    recovery_rate: float | None = Field(
        description="recovered / (recovered + overdue) over delinquent accounts (null when both are 0)"
    )
    reporting_age_days: int | None = Field(description="Days since the newest as_of reported")
    disputes_upheld_share: float | None = Field(
        description="Disputes about the accounts upheld / resolved (null before any resolution)"
    )

    model_config = ConfigDict(json_schema_extra={"examples": [FIGURES_EXAMPLE]})


class BranchCollectionFigures(CollectionFigures):
    branch_code: str | None = Field(description="The branch; null gathers the accounts reported without one")


class MonthCollectionFigures(BaseModel):
    month: str = Field(examples=["2026-11"])
    live_accounts: int | None = None
    delinquency_rate: float | None = None
    uncollected_rate: float | None = None
    recovery_rate: float | None = None
    reporting_age_days: int | None = None
    disputes_upheld_share: float | None = None


class Industry(BaseModel):
    members: int = Field(description="Reporting members compared (the association itself is not one)")
    median: dict[str, float | None]
    p25: dict[str, float | None]
    p75: dict[str, float | None]


class Scorecard(BaseModel):
    as_of: datetime
    member: CollectionFigures
    industry: Industry = Field(
        description="Quartiles across reporting members, null under 5 of them: no member is identifiable"
    )
    percentile: dict[str, float | None] = Field(
        description="Where the member stands for each figure: % of members below plus half of those equal"
    )
    branches: list[BranchCollectionFigures]
    series: list[MonthCollectionFigures] = Field(
        description="One entry per month, oldest first; the current month is live, earlier months are the figures "
        "the daily check last took in them (null before the registry kept them)"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-28T12:00:00Z",
                    "member": FIGURES_EXAMPLE,
                    "industry": {
                        "members": 50,
                        "median": FIGURES_EXAMPLE,
                        "p25": FIGURES_EXAMPLE,
                        "p75": FIGURES_EXAMPLE,
                    },
                    "percentile": {"uncollected_rate": 82.0, "recovery_rate": 31.0},
                    "branches": [{"branch_code": "SH-PUDONG-03", **FIGURES_EXAMPLE}],
                    "series": [{"month": "2026-11", **FIGURES_EXAMPLE}],
                }
            ]
        }
    )


class LeagueSort(StrEnum):
    uncollected_rate = "uncollected_rate"
    delinquency_rate = "delinquency_rate"
    recovery_rate = "recovery_rate"
    reporting_age_days = "reporting_age_days"


class LeagueEntry(CollectionFigures):
    rank: int = Field(description="1 is the worst on the sort figure; members without a value come last")
    member_id: uuid.UUID
    code: str = Field(examples=["BANK001"])
    name: str
    branches: int = Field(description="Branches with live accounts (accounts without a branch not counted)")


class LeagueTable(BaseModel):
    as_of: datetime
    sort: LeagueSort
    members: list[LeagueEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-28T12:00:00Z",
                    "sort": "uncollected_rate",
                    "members": [
                        {
                            "rank": 1,
                            "member_id": "0b4e28ba-2fa1-11d2-883f-0016d3cca427",
                            "code": "BANK001",
                            "name": "Bank One",
                            "branches": 12,
                            **FIGURES_EXAMPLE,
                        }
                    ],
                }
            ]
        }
    )


class ThresholdFigure(StrEnum):
    delinquency_rate = "delinquency_rate"
    uncollected_rate = "uncollected_rate"
    recovery_rate = "recovery_rate"
    reporting_age_days = "reporting_age_days"


class ThresholdsPut(RequestModel):
    """The association's limits; a figure left out has none. recovery_rate is crossed by
    falling below it, every other figure by rising above it."""

    # Strict: `true` is not a number of days, nor "0.3" a rate.
    delinquency_rate: float | None = Field(default=None, ge=0, le=1, strict=True)
    uncollected_rate: float | None = Field(default=None, ge=0, le=1, strict=True)
    recovery_rate: float | None = Field(default=None, ge=0, le=1, strict=True)
    reporting_age_days: int | None = Field(default=None, ge=0, le=3650, strict=True)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"uncollected_rate": 0.3, "reporting_age_days": 45}]}
    )


class Thresholds(BaseModel):
    delinquency_rate: float | None = None
    uncollected_rate: float | None = None
    recovery_rate: float | None = None
    reporting_age_days: int | None = None
    updated_at: datetime | None = Field(description="When a limit last changed")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "delinquency_rate": None,
                    "uncollected_rate": 0.3,
                    "recovery_rate": None,
                    "reporting_age_days": 45,
                    "updated_at": "2026-11-28T12:00:00Z",
                }
            ]
        }
    )
