"""API shapes of the industry statistics."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field


class RecordFigures(BaseModel):
    live: int = Field(description="Live records: neither withdrawn, expired nor suppressed")
    by_product: dict[str, int]
    by_status: dict[str, int]
    delinquent: int = Field(description="Live records with a dpd_* or written_off status")
    delinquency_rate: float | None = Field(description="delinquent / live (null without records)", examples=[0.0825])
    uncollected: int = Field(
        description="Uncollected: delinquent more than 30 days on its as_of, no arrangement, no collection action in "
        "the 30 days up to as_of (docs/api.md)"
    )
    uncollected_rate: float | None = Field(description="uncollected / delinquent (null without delinquencies)")
    overdue_delinquent: dict[str, str] = Field(
        description="Overdue sums of delinquent records, by currency", examples=[{"CNY": "125000.00"}]
    )
    overdue_uncollected: dict[str, str] = Field(description="Overdue sums of uncollected records, by currency")
    newest_as_of: date | None = Field(description="The most recent as_of reported")
    reporting_age_days: int | None = Field(description="Days since newest_as_of: how current the reporting is")


class DisputeFigures(BaseModel):
    received: int
    open: int
    overdue: int = Field(description="Open past the 20-day deadline")
    resolved: int
    upheld: int
    upheld_share: float | None = Field(description="upheld / resolved (null before any resolution)")


class InquiryFigures(BaseModel):
    window_days: int = Field(examples=[30])
    by_purpose: dict[str, int] = Field(description="Subjects queried in the window, by purpose")
    per_day: dict[str, float] = Field(description="by_purpose / window_days")
    stacked_subjects: int = Field(
        description="Subjects with hard inquiries from at least 3 institutions in the window (for a member: those "
        "among the subjects it asked about)"
    )


class DataQualityFigures(BaseModel):
    vehicle_accounts_without_collateral: int = Field(
        default=0,
        description="Live auto_loan and financial_lease accounts reported without their vehicle (`collateral`)",
    )


class Figures(BaseModel):
    records: RecordFigures
    disputes: DisputeFigures
    inquiries: InquiryFigures
    data_quality: DataQualityFigures = Field(default_factory=DataQualityFigures)


class MemberFigures(Figures):
    member_id: uuid.UUID
    code: str
    name: str
    kind: str


class IndustryStats(BaseModel):
    as_of: datetime
    industry: Figures = Field(
        description="Every member together; disputes and stacked subjects are counted once "
        "even when they concern several members"
    )
    members: list[MemberFigures]


class MonthFigures(BaseModel):
    month: str = Field(examples=["2026-11"])
    inquiries: dict[str, int]
    new_delinquencies: int = Field(description="Records whose delinquency started in the month")
    disputes_received: int


class MemberStats(BaseModel):
    as_of: datetime
    member: MemberFigures
    monthly: list[MonthFigures] = Field(description="The last 12 months, oldest first, the current month included")
