"""Disputes: a borrower's objection to what lenders report, the lenders' answers, and the
association's resolution within 20 days."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from registry_client.types._models import RequestModel, ResponseModel


class DisputeReason(StrEnum):
    NOT_MINE = "not_mine"
    WRONG_STATUS = "wrong_status"
    WRONG_AMOUNT = "wrong_amount"
    ALREADY_SETTLED = "already_settled"
    IDENTITY_THEFT = "identity_theft"
    OTHER = "other"


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AnswerAction(StrEnum):
    """A covered record's owner `confirm`s it as reported, or proposes a `correct`ion."""

    CONFIRM = "confirm"
    CORRECT = "correct"


class Resolution(StrEnum):
    UPHELD = "upheld"
    REJECTED = "rejected"
    UNVERIFIABLE = "unverifiable"


class DisputeCreate(RequestModel):
    subject: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    reason: DisputeReason
    statement: str = Field(min_length=1, max_length=2000)
    record_id: str | None = None
    consent_ref: str | None = Field(default=None, min_length=1, max_length=128)


class DisputeAnswer(RequestModel):
    record_id: str
    action: AnswerAction
    note: str = Field(min_length=1, max_length=2000)
    correction: dict[str, Any] | None = None


class DisputeResolve(RequestModel):
    resolution: Resolution
    note: str = Field(min_length=1, max_length=2000)


class DisputeFiled(ResponseModel):
    """A member's dispute, accepted: the same answer whether or not any record is covered."""

    id: str
    status: str
    received_at: datetime
    deadline: datetime


class Institution(ResponseModel):
    code: str
    name: str


class CoveredRecord(ResponseModel):
    """A record the dispute covers (a member sees only its own; `institution` is for admins)."""

    record_id: str
    account_ref: str | None = None
    institution: Institution | None = None
    response: str | None = None
    note: str | None = None
    correction: dict[str, Any] | None = None
    responded_at: datetime | None = None
    outcome: str | None = None


class DisputeEvent(ResponseModel):
    at: datetime
    kind: str
    record_id: str | None = None
    institution: Institution | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class DisputeSummary(ResponseModel):
    """A dispute as listed: `overdue` when open past its 20-day `deadline`."""

    id: str
    status: str
    reason: str
    statement: str
    received_at: datetime
    deadline: datetime
    overdue: bool = False
    records: int = 0
    filed_by_you: bool = False
    resolution: str | None = None
    resolution_note: str | None = None
    resolved_at: datetime | None = None


class Dispute(DisputeSummary):
    """One dispute with its covered records and history."""

    filed_by: Institution | None = None
    covered: list[CoveredRecord] = Field(default_factory=list)
    history: list[DisputeEvent] = Field(default_factory=list)
