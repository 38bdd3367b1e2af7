"""API shapes of disputes: filing, an owner's response, the association's resolution, and
a dispute as the filer, an owner or an admin sees it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from registry.core.schemas import FieldValueError, RequestModel, ResponseModel
from registry.records.schemas import RECORD_EXAMPLE, Token

# A partial correction: the account was settled; every other field stays as reported.
CORRECTION_EXAMPLE = {
    "status": "settled",
    "outstanding_amount": "0",
    "overdue_amount": "0",
    "closed_on": "2026-08-20",
    "as_of": "2026-11-30",
}

Note = Field(min_length=1, max_length=2000, examples=["Checked against the loan ledger of 2026-10-31"])


DISPUTE_ID = "3c9d2e7f-1a4b-4c8d-9e2f-6a7b8c9d0e1f"
RECORD_ID = "5a1f0c3e-8d2b-4e6f-9a7c-1b3d5e7f9a0c"
DISPUTE_SUMMARY_EXAMPLE = {
    "id": DISPUTE_ID,
    "status": "resolved",
    "reason": "already_settled",
    "statement": "I repaid this loan in full in August 2026.",
    "received_at": "2026-11-03T10:00:00Z",
    "deadline": "2026-11-23T10:00:00Z",
    "overdue": False,
    "records": 1,
    "filed_by_you": False,
    "resolution": "upheld",
    "resolution_note": "The lender's ledger shows the loan settled on 2026-08-14",
    "resolved_at": "2026-11-10T15:30:00Z",
}


class Reason(StrEnum):
    not_mine = "not_mine"
    wrong_status = "wrong_status"
    wrong_amount = "wrong_amount"
    already_settled = "already_settled"
    identity_theft = "identity_theft"
    other = "other"


class DisputeStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class ResponseAction(StrEnum):
    confirm = "confirm"
    correct = "correct"


class Resolution(StrEnum):
    upheld = "upheld"
    rejected = "rejected"
    unverifiable = "unverifiable"


class DisputeOutcome(StrEnum):
    corrected = "corrected"
    suppressed = "suppressed"
    kept = "kept"
    superseded = "superseded"
    unlinked = "unlinked"  # a party's dispute upheld: the party's link to the account removed


class DisputeCreate(RequestModel):
    subject: Token
    record_id: uuid.UUID | None = Field(
        default=None,
        description="Dispute this one record (a member: one of its own); without it, every live negative record "
        "about the subject, whoever holds it",
    )
    reason: Reason
    statement: str = Field(
        min_length=1,
        max_length=2000,
        description="The borrower's own words",
        examples=["I repaid this loan in full in August 2026."],
    )
    consent_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The borrower's authorization to file for them: required of a member that holds no live "
        "record about the subject (audited, as for a loan application)",
        examples=["CONSENT-2026-11-0042"],
    )

    model_config = ConfigDict(
        **{
            "extra": "forbid",
            "json_schema_extra": {
                "examples": [
                    {
                        "subject": "9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b",
                        "reason": "already_settled",
                        "statement": "I repaid this loan in full in August 2026.",
                    }
                ]
            },
        }
    )


class DisputeFiled(ResponseModel):
    """A member's dispute, accepted: the same answer whether or not any record is covered."""

    id: uuid.UUID
    status: DisputeStatus
    received_at: datetime
    deadline: datetime = Field(description="received_at + 20 days")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": DISPUTE_ID,
                    "status": "open",
                    "received_at": "2026-11-03T10:00:00Z",
                    "deadline": "2026-11-23T10:00:00Z",
                }
            ]
        },
    )


class DisputeResponse(RequestModel):
    record_id: uuid.UUID = Field(description="Your record covered by the dispute")
    action: ResponseAction
    note: str = Note
    correction: dict[str, Any] | None = Field(
        default=None,
        description="With `correct`: only the fields of the record that change (RecordItem fields; `null` clears "
        "an optional one). The stored record with these changes must pass every rule of a report, `as_of` not "
        "older than stored; `subject` and `account_ref` may be given but must be the record's own. The whole "
        "corrected record is kept with the answer and applied only if the association upholds the dispute.",
        examples=[CORRECTION_EXAMPLE],
    )

    model_config = ConfigDict(
        **{
            "extra": "forbid",
            "json_schema_extra": {
                "examples": [
                    {
                        "record_id": "0193a8c2-5b1e-7c4d-9e2f-3a4b5c6d7e8f",
                        "action": "correct",
                        "note": "Repaid in full on 20 August; our ledger was late",
                        "correction": CORRECTION_EXAMPLE,
                    }
                ]
            },
        }
    )

    @model_validator(mode="after")
    def _correction_matches_action(self) -> DisputeResponse:
        if self.action is ResponseAction.correct and self.correction is None:
            raise FieldValueError("correction", "correction is required when action is correct")
        if self.action is ResponseAction.confirm and self.correction is not None:
            raise FieldValueError("correction", "correction is only allowed when action is correct")
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "record_id": RECORD_ID,
                    "action": "correct",
                    "note": "Settled on 2026-08-14; the October report was wrong",
                    "correction": {**RECORD_EXAMPLE, "status": "settled", "overdue_amount": "0", "as_of": "2026-11-05"},
                }
            ]
        },
    )


class DisputeResolve(RequestModel):
    resolution: Resolution
    note: str = Note

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"resolution": "upheld", "note": "The lender's ledger shows the loan settled on 2026-08-14"}]
        },
    )


class Institution(BaseModel):
    code: str = Field(examples=["BANK001"])
    name: str = Field(examples=["First Bank"])


class CoveredRecord(ResponseModel):
    record_id: uuid.UUID
    account_ref: str | None = Field(description="Null once retention has deleted the record")
    institution: Institution | None = Field(description="Admins only")
    response: ResponseAction | None
    note: str | None
    correction: dict[str, Any] | None
    responded_at: datetime | None
    outcome: DisputeOutcome | None


class DisputeEventOut(ResponseModel):
    at: datetime
    kind: str = Field(examples=["filed", "response", "resolved"])
    record_id: uuid.UUID | None
    institution: Institution | None = Field(description="Who acted; admins only")
    details: dict[str, Any]


class DisputeSummary(ResponseModel):
    id: uuid.UUID
    status: DisputeStatus
    reason: Reason
    statement: str
    received_at: datetime
    deadline: datetime = Field(description="received_at + 20 days")
    overdue: bool = Field(description="Open past its deadline: the covered records are left out of exposure answers")
    records: int = Field(description="How many records the dispute covers: for a member, its own only")
    filed_by_you: bool
    resolution: Resolution | None
    resolution_note: str | None
    resolved_at: datetime | None

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [DISPUTE_SUMMARY_EXAMPLE]})


class DisputeOut(DisputeSummary):
    filed_by: Institution | None = Field(description="Admins only")
    covered: list[CoveredRecord] = Field(description="For a member, only its own records")
    history: list[DisputeEventOut]

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **DISPUTE_SUMMARY_EXAMPLE,
                    "filed_by": {"code": "BANK002", "name": "Second Savings Bank"},
                    "covered": [
                        {
                            "record_id": RECORD_ID,
                            "account_ref": "LN-2024-000187",
                            "institution": {"code": "BANK001", "name": "First Commercial Bank"},
                            "response": "correct",
                            "note": "Settled on 2026-08-14; the October report was wrong",
                            "correction": {**RECORD_EXAMPLE, "status": "settled", "as_of": "2026-11-05"},
                            "responded_at": "2026-11-06T09:12:00Z",
                            "outcome": "corrected",
                        }
                    ],
                    "history": [
                        {
                            "at": "2026-11-03T10:00:00Z",
                            "kind": "filed",
                            "record_id": None,
                            "institution": {"code": "BANK002", "name": "Second Savings Bank"},
                            "details": {"reason": "already_settled", "records": 1},
                        },
                        {
                            "at": "2026-11-06T09:12:00Z",
                            "kind": "response",
                            "record_id": RECORD_ID,
                            "institution": {"code": "BANK001", "name": "First Commercial Bank"},
                            "details": {
                                "action": "correct",
                                "note": "Settled on 2026-08-14; the October report was wrong",
                                "correction": True,
                            },
                        },
                        {
                            "at": "2026-11-10T15:30:00Z",
                            "kind": "resolved",
                            "record_id": None,
                            "institution": {"code": "ASSOC", "name": "Lenders' Association"},
                            "details": {
                                "resolution": "upheld",
                                "note": "The lender's ledger shows the loan settled on 2026-08-14",
                                "outcomes": {RECORD_ID: "corrected"},
                            },
                        },
                    ],
                }
            ]
        },
    )
