"""API shapes of the subject report (a borrower's access request)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registry.core.schemas import RequestModel
from registry.disputes.schemas import Institution
from registry.records.schemas import RECORD_EXAMPLE, Token
from registry.records.vocabulary import Arrangement, CollectionStage, Product, Status, SubjectType


class SubjectReportRequest(RequestModel):
    subject: Token

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"subject": RECORD_EXAMPLE["subject"]}]})


class RecordDispute(BaseModel):
    dispute_id: uuid.UUID
    reason: str
    statement: str = Field(description="The borrower's statement, kept with the record")
    status: str
    resolution: str | None
    received_at: datetime


class ReportedRecord(BaseModel):
    institution: Institution
    account_ref: str
    subject_type: SubjectType
    product: Product
    status: Status
    collection_stage: CollectionStage
    currency: str
    principal_amount: str
    outstanding_amount: str
    overdue_amount: str
    opened_on: date | None
    delinquent_since: date | None
    notice_sent_on: date | None
    closed_on: date | None
    as_of: date
    branch_code: str | None
    last_collection_action_on: date | None
    recovered_amount: str
    arrangement: Arrangement
    uncollected: bool
    expires_on: date | None
    disputed: bool
    suppressed: bool = Field(description="Held but left out of every exposure answer (an upheld dispute)")
    disputes: list[RecordDispute]


class ReportedPartyRecord(BaseModel):
    """An account someone else borrowed on, where the subject is guarantor or co-borrower."""

    record_id: uuid.UUID = Field(description="Name it as `record_id` to dispute the link")
    institution: Institution
    account_ref: str
    role: str = Field(examples=["guarantor"])
    product: Product
    status: Status
    currency: str
    outstanding_amount: str
    overdue_amount: str
    as_of: date
    link_removed: bool = Field(description="A dispute by the subject was upheld: the link is in no answer")


class ReportedInquiry(BaseModel):
    institution: Institution
    purpose: str
    consent_ref: str | None
    at: datetime


SUBJECT_REPORT_EXAMPLE = {
    "subject": RECORD_EXAMPLE["subject"],
    "generated_at": "2026-11-28T09:30:00Z",
    "inquiries_since": "2024-11-28T09:30:00Z",
    "records": [
        {
            "institution": {"code": "BANK001", "name": "First Commercial Bank"},
            **{k: v for k, v in RECORD_EXAMPLE.items() if k != "subject"},
            "closed_on": None,
            "uncollected": False,
            "expires_on": None,
            "disputed": True,
            "suppressed": False,
            "disputes": [
                {
                    "dispute_id": "3c9d2e7f-1a4b-4c8d-9e2f-6a7b8c9d0e1f",
                    "reason": "already_settled",
                    "statement": "I repaid this loan in full in August 2026.",
                    "status": "open",
                    "resolution": None,
                    "received_at": "2026-11-03T10:00:00Z",
                }
            ],
        }
    ],
    "inquiries": [
        {
            "institution": {"code": "BANK002", "name": "Second Savings Bank"},
            "purpose": "loan_application",
            "consent_ref": "CONSENT-2026-11-0042",
            "at": "2026-11-20T14:05:00Z",
        }
    ],
}


class SubjectReport(BaseModel):
    subject: str
    generated_at: datetime
    inquiries_since: datetime = Field(description="Inquiries are kept 24 months")
    records: list[ReportedRecord]
    party_records: list[ReportedPartyRecord] = Field(
        default_factory=list, description="Accounts where the subject is a guarantor or co-borrower"
    )
    inquiries: list[ReportedInquiry]

    model_config = ConfigDict(json_schema_extra={"examples": [SUBJECT_REPORT_EXAMPLE]})

    def lines(self) -> list[dict[str, Any]]:
        """The report as NDJSON lines: a header, then one line per record and per inquiry."""
        data = self.model_dump(mode="json")
        header = {
            "type": "report",
            **{k: data[k] for k in ("subject", "generated_at", "inquiries_since")},
            "records": len(self.records),
            "party_records": len(self.party_records),
            "inquiries": len(self.inquiries),
        }
        return (
            [header]
            + [{"type": "record", **r} for r in data["records"]]
            + [{"type": "party_record", **r} for r in data["party_records"]]
            + [{"type": "inquiry", **i} for i in data["inquiries"]]
        )
