"""The subject report: everything held about one borrower, for their access request."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from registry_client.types._models import ResponseModel
from registry_client.types.disputes import Institution


class RecordDispute(ResponseModel):
    dispute_id: str
    reason: str
    statement: str
    status: str
    resolution: str | None = None
    received_at: datetime


class ReportedRecord(ResponseModel):
    """A record with the institution that reports it. Amounts are decimal strings."""

    institution: Institution
    account_ref: str
    subject_type: str
    product: str
    status: str
    collection_stage: str | None = None
    currency: str
    principal_amount: str | None = None
    outstanding_amount: str | None = None
    overdue_amount: str | None = None
    opened_on: date | None = None
    delinquent_since: date | None = None
    notice_sent_on: date | None = None
    closed_on: date | None = None
    as_of: date
    expires_on: date | None = None
    uncollected: bool = False
    disputed: bool = False
    suppressed: bool = False
    disputes: list[RecordDispute] = Field(default_factory=list)


class ReportedInquiry(ResponseModel):
    institution: Institution
    purpose: str
    consent_ref: str | None = None
    at: datetime


class SubjectReport(ResponseModel):
    subject: str
    generated_at: datetime
    inquiries_since: datetime
    records: list[ReportedRecord] = Field(default_factory=list)
    inquiries: list[ReportedInquiry] = Field(default_factory=list)
