"""API shapes of monitoring: watches, alerts, the webhook endpoint and its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from registry.audit.schemas import CheckpointHead
from registry.core.schemas import RequestModel, ResponseModel
from registry.records.schemas import Token
from registry.records.vocabulary import Status

MAX_WATCH_BATCH = 1000

Label = Field(
    default=None,
    min_length=1,
    max_length=200,
    description="Your own note, repeated in every alert",
    examples=["branch 12 auto loans"],
)


class WatchCreate(RequestModel):
    subjects: list[Token] = Field(min_length=1, max_length=MAX_WATCH_BATCH)
    label: str | None = Label


class WatchBatchResult(BaseModel):
    created: int = Field(description="Subjects newly watched", examples=[2])
    existing: int = Field(description="Subjects already watched (a given label replaces the old one)", examples=[0])


class WatchOut(BaseModel):
    subject: str = Field(description="The borrower token you watch")
    label: str | None
    created_at: datetime


class AlertKind(StrEnum):
    new_delinquency = "new_delinquency"
    worsened = "worsened"
    hard_inquiry = "hard_inquiry"
    audit_checkpoint = "audit_checkpoint"
    dispute_opened = "dispute.opened"
    dispute_deadline_near = "dispute.deadline_near"
    dispute_resolved = "dispute.resolved"


DISPUTE_ALERT_KINDS = (AlertKind.dispute_opened, AlertKind.dispute_deadline_near, AlertKind.dispute_resolved)


class AlertOut(BaseModel):
    """Something another institution did about a borrower you watch; never says which one."""

    id: int = Field(examples=[4711])
    subject: str = Field(description="The watched borrower token")
    label: str | None = Field(description="The label of your watch when the alert was raised")
    kind: AlertKind
    status: Status | None = Field(description="The reported status; null for hard_inquiry", examples=["dpd_31_60"])
    at: datetime


class CheckpointAlertOut(BaseModel):
    """The signed head of the audit log's checkpoint chain, put in every active member's feed
    so that members can hold the association to it: keep it (docs/security.md)."""

    id: int = Field(examples=[4712])
    subject: None = Field(default=None, description="Always null: the alert is about no borrower")
    label: None = None
    kind: Literal[AlertKind.audit_checkpoint]
    status: None = None
    at: datetime
    checkpoint: CheckpointHead


class DisputedRecord(BaseModel):
    record_id: uuid.UUID
    account_ref: str | None = Field(description="Your account reference; null once retention deleted the record")
    outcome: str | None = Field(
        default=None,
        description="dispute.resolved only: `corrected`, `suppressed`, `kept` or `superseded`",
        examples=["corrected"],
    )


class DisputeAlertOut(BaseModel):
    """A dispute covers records of yours: answer before the deadline (`POST
    /v1/disputes/{id}/response`). Never says who filed it or which other lenders it covers."""

    id: int = Field(examples=[4713])
    subject: None = Field(default=None, description="Always null: read the dispute by `dispute_id`")
    label: None = None
    kind: Literal[AlertKind.dispute_opened, AlertKind.dispute_deadline_near, AlertKind.dispute_resolved]
    status: None = None
    at: datetime
    dispute_id: uuid.UUID
    reason: str = Field(description="The borrower's reason", examples=["already_settled"])
    deadline: datetime = Field(description="When the association must have resolved the dispute")
    resolution: str | None = Field(
        default=None, description="dispute.resolved only: `upheld`, `rejected` or `unverifiable`", examples=["upheld"]
    )
    records: list[DisputedRecord] = Field(
        description="Your records the dispute covers; for dispute.deadline_near, those you have not answered for"
    )


class AlertFeed(BaseModel):
    data: list[AlertOut | CheckpointAlertOut | DisputeAlertOut]
    next_cursor: str = Field(
        description="Always present: pass as `after` to continue; equal to the given cursor when nothing is new"
    )


class WebhookPut(RequestModel):
    url: str = Field(min_length=8, max_length=2000, examples=["https://lender.example/registry/alerts"])
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Signing secret; when absent a new one is generated and returned once",
    )


class WebhookOut(ResponseModel):
    url: str
    secret: str | None = Field(
        default=None, description="Only in the answer to a PUT that generated the secret: store it now"
    )
    created_at: datetime
    updated_at: datetime


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    cancelled = "cancelled"


class DeliveryOut(ResponseModel):
    id: int
    event: str = Field(examples=["alert"], description="`alert` or `ping` (from POST /v1/webhook/test)")
    alert_id: int | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
