"""Industry statistics: per member and industry-wide (the same three groups of figures)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from registry_client.types._models import ResponseModel


class RecordFigures(ResponseModel):
    live: int = 0
    by_product: dict[str, int] = Field(default_factory=dict)
    by_status: dict[str, int] = Field(default_factory=dict)
    delinquent: int = 0
    delinquency_rate: float | None = None
    uncollected: int = 0
    uncollected_rate: float | None = None
    overdue_delinquent: dict[str, str] = Field(default_factory=dict)
    overdue_uncollected: dict[str, str] = Field(default_factory=dict)
    newest_as_of: date | None = None
    reporting_age_days: int | None = None


class DisputeFigures(ResponseModel):
    received: int = 0
    open: int = 0
    overdue: int = 0
    resolved: int = 0
    upheld: int = 0
    upheld_share: float | None = None


class InquiryFigures(ResponseModel):
    window_days: int = 30
    by_purpose: dict[str, int] = Field(default_factory=dict)
    per_day: dict[str, float] = Field(default_factory=dict)
    stacked_subjects: int = 0


class Figures(ResponseModel):
    records: RecordFigures
    disputes: DisputeFigures
    inquiries: InquiryFigures


class MemberFigures(Figures):
    member_id: str
    code: str
    name: str
    kind: str


class IndustryStats(ResponseModel):
    as_of: datetime
    industry: Figures
    members: list[MemberFigures] = Field(default_factory=list)


class MonthFigures(ResponseModel):
    month: str
    inquiries: dict[str, int] = Field(default_factory=dict)
    new_delinquencies: int = 0
    disputes_received: int = 0


class MemberStats(ResponseModel):
    as_of: datetime
    member: MemberFigures
    monthly: list[MonthFigures] = Field(default_factory=list)
