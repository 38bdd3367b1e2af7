"""Delinquency records: what a member reports and what `/v1/records` answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from registry_client.identity import TOKEN_PATTERN
from registry_client.types._models import RequestModel, ResponseModel
from registry_client.types.shared import FieldError


class SubjectType(StrEnum):
    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class Product(StrEnum):
    AUTO_LOAN = "auto_loan"
    MORTGAGE = "mortgage"
    CONSUMER_LOAN = "consumer_loan"
    CREDIT_CARD = "credit_card"
    ENTERPRISE_LOAN = "enterprise_loan"
    PROJECT_FINANCE = "project_finance"
    FINANCIAL_LEASE = "financial_lease"
    OTHER = "other"


class RecordStatus(StrEnum):
    CURRENT = "current"
    DPD_1_30 = "dpd_1_30"
    DPD_31_60 = "dpd_31_60"
    DPD_61_90 = "dpd_61_90"
    DPD_91_180 = "dpd_91_180"
    DPD_OVER_180 = "dpd_over_180"
    WRITTEN_OFF = "written_off"
    RESTRUCTURED = "restructured"
    SETTLED = "settled"


class CollectionStage(StrEnum):
    NONE = "none"
    REMINDER = "reminder"
    NEGOTIATION = "negotiation"
    RESTRUCTURING = "restructuring"
    LEGAL_ACTION = "legal_action"
    REPOSSESSION = "repossession"
    AGENCY = "agency"
    CLOSED = "closed"


class Arrangement(StrEnum):
    """A hardship arrangement agreed with the borrower."""

    NONE = "none"
    PAYMENT_PLAN = "payment_plan"
    EXTENSION = "extension"
    RESTRUCTURE = "restructure"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"
    REJECTED = "rejected"


class PartyRole(StrEnum):
    GUARANTOR = "guarantor"
    CO_BORROWER = "co_borrower"


class Party(RequestModel):
    """A guarantor or co-borrower of the account (not its borrower), by brs1 token."""

    subject: str = Field(pattern=TOKEN_PATTERN)
    subject_type: SubjectType
    role: PartyRole


class Collateral(RequestModel):
    """The vehicle pledged for the account, by its `vin` token (`identity.token("vin", …)`)."""

    kind: str = "vehicle"
    token: str = Field(pattern=TOKEN_PATTERN)


class RecordItem(RequestModel):
    """One account's current state as the member reports it.

    `principal_amount` and `outstanding_amount` are required, as the registry requires them.
    Optional fields left as None are not sent, so the registry's defaults apply
    (`collection_stage` none, `currency` CNY, `overdue_amount` 0).
    """

    subject: str = Field(
        pattern=TOKEN_PATTERN,
        description="The borrower's brs1 token (64 hex), never a raw identity",
    )
    subject_type: SubjectType
    account_ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    product: Product
    status: RecordStatus
    as_of: date
    collection_stage: CollectionStage | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    principal_amount: Decimal = Field(ge=0)
    outstanding_amount: Decimal = Field(ge=0)
    overdue_amount: Decimal | None = Field(default=None, ge=0)
    opened_on: date | None = None
    delinquent_since: date | None = None
    notice_sent_on: date | None = None
    closed_on: date | None = None
    branch_code: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$"
    )
    last_collection_action_on: date | None = Field(
        default=None,
        description="The latest collection action; without one in the 30 days up to as_of, a "
        "delinquency over 30 days old counts as uncollected",
    )
    recovered_amount: Decimal | None = Field(default=None, ge=0)
    arrangement: Arrangement | None = None
    parties: list[Party] | None = Field(
        default=None, max_length=10, description="Guarantors and co-borrowers, each named once"
    )
    collateral: Collateral | None = Field(
        default=None, description="Expected on every auto_loan and financial_lease"
    )


class RecordResult(ResponseModel):
    """What became of one submitted item; `index` is its position in what was submitted."""

    index: int
    account_ref: str | None = None
    outcome: str
    record_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class SubmitSummary(ResponseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0


class SubmitResult(ResponseModel):
    """The answer to a submission, one result per item in the order submitted."""

    results: list[RecordResult]
    summary: SubmitSummary

    @property
    def rejected(self) -> list[RecordResult]:
        return [result for result in self.results if result.outcome == Outcome.REJECTED]


class RecordEvent(ResponseModel):
    """One accepted change in a record's history."""

    at: datetime | None = None
    status: str | None = None
    as_of: date | None = None
    version: int | None = None


class Record(ResponseModel):
    """A record as the reporting member sees it. Amounts are exact decimals."""

    id: str
    account_ref: str
    subject_type: str | None = None
    product: str | None = None
    status: str | None = None
    collection_stage: str | None = None
    currency: str | None = None
    principal_amount: Decimal | None = None
    outstanding_amount: Decimal | None = None
    overdue_amount: Decimal | None = None
    opened_on: date | None = None
    delinquent_since: date | None = None
    notice_sent_on: date | None = None
    closed_on: date | None = None
    as_of: date | None = None
    branch_code: str | None = None
    last_collection_action_on: date | None = None
    recovered_amount: Decimal | None = None
    arrangement: str | None = None
    days_past_due: int | None = Field(
        default=None, description="as_of - delinquent_since while delinquent: the worklist's order"
    )
    parties: list[dict[str, str]] = Field(
        default_factory=list, description="`subject_type` and `role` of each party (no tokens)"
    )
    collateral: dict[str, str] | None = None
    uncollected: bool = False
    disputed: bool = False
    suppressed: bool = False
    expires_on: date | None = None
    version: int | None = None
    events: list[RecordEvent] | None = Field(default=None, description="Present on `records.get`")
