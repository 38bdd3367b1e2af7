"""Cross-institution exposure: the question a member asks before lending, and the answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from registry_client.types._models import RequestModel, ResponseModel


class Purpose(StrEnum):
    """Why the member asks. `loan_application` needs the borrower's consent reference."""

    LOAN_APPLICATION = "loan_application"
    ACCOUNT_REVIEW = "account_review"
    COLLECTION = "collection"
    DISPUTE_INVESTIGATION = "dispute_investigation"


class ExposureQuery(RequestModel):
    subjects: list[str] = Field(min_length=1, max_length=1000)
    purpose: Purpose
    consent_ref: str | None = Field(default=None, min_length=1, max_length=128)


class AccountCounts(ResponseModel):
    total: int = 0
    delinquent: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    by_product: dict[str, int] = Field(default_factory=dict)
    in_arrangement: int = 0


class InquiryCounts(ResponseModel):
    """Other institutions' `loan_application` inquiries: the loan-stacking signal."""

    last_30d: int = 0
    last_90d: int = 0
    institutions_30d: int = 0
    institutions_90d: int = 0


class OwnAccounts(ResponseModel):
    """The caller's own accounts with this subject, kept apart from everyone else's."""

    accounts: int = 0
    delinquent: int = 0
    worst_status: str | None = None


class RoleCounts(ResponseModel):
    accounts: int = 0
    delinquent: int = 0


class ContingentExposure(ResponseModel):
    """Other institutions' live accounts where the subject is a guarantor or co-borrower."""

    accounts: int = 0
    delinquent: int = 0
    worst_status: str | None = None
    outstanding_amounts: dict[str, Decimal] = Field(default_factory=dict)
    overdue_amounts: dict[str, Decimal] = Field(default_factory=dict)
    by_role: dict[str, RoleCounts] = Field(default_factory=dict)


class SubjectExposure(ResponseModel):
    """What other institutions report about one subject; which institutions is never said."""

    subject: str
    found: bool
    institutions_reporting: int = 0
    institutions_delinquent: int = 0
    accounts: AccountCounts = Field(default_factory=AccountCounts)
    worst_status: str | None = None
    worst_status_24m: str | None = None
    overdue_amounts: dict[str, Decimal] = Field(default_factory=dict)
    outstanding_amounts: dict[str, Decimal] = Field(default_factory=dict)
    latest_delinquent_since: date | None = None
    uncollected_delinquent_accounts: int = 0
    disputed: bool = False
    hard_inquiries: InquiryCounts = Field(default_factory=InquiryCounts)
    own: OwnAccounts = Field(default_factory=OwnAccounts)
    contingent: ContingentExposure = Field(default_factory=ContingentExposure)


class ExposureResponse(ResponseModel):
    """One result per subject, in the order asked."""

    results: list[SubjectExposure]
