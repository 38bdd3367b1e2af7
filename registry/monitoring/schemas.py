"""API shapes of monitoring: watches, alerts, the webhook endpoint and its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class WatchKind(StrEnum):
    subject = "subject"
    vehicle = "vehicle"


EXAMPLE_SUBJECT = "9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b"


class WatchCreate(RequestModel):
    kind: WatchKind = Field(
        default=WatchKind.subject,
        description="`vehicle`: the subjects are vin tokens of vehicles backing live accounts of yours",
    )
    subjects: list[Token] = Field(min_length=1, max_length=MAX_WATCH_BATCH)
    label: str | None = Label

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subjects": [EXAMPLE_SUBJECT, "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"],
                    "label": "branch 12 auto loans",
                }
            ]
        },
    )


class WatchBatchResult(BaseModel):
    created: int = Field(description="Subjects newly watched", examples=[2])
    existing: int = Field(description="Subjects already watched (a given label replaces the old one)", examples=[0])

    model_config = ConfigDict(json_schema_extra={"examples": [{"created": 2, "existing": 0}]})


class WatchOut(BaseModel):
    subject: str = Field(description="The borrower token you watch")
    label: str | None
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"subject": EXAMPLE_SUBJECT, "label": "branch 12 auto loans", "created_at": "2026-11-02T08:40:00Z"}
            ]
        }
    )


class AlertKind(StrEnum):
    new_delinquency = "new_delinquency"
    worsened = "worsened"
    hard_inquiry = "hard_inquiry"
    audit_checkpoint = "audit_checkpoint"
    member_threshold_crossed = "member.threshold_crossed"
    member_threshold_cleared = "member.threshold_cleared"
    dispute_overdue = "dispute.overdue"
    collateral_double_pledge = "collateral.double_pledge"
    collateral_watched_vehicle = "collateral.watched_vehicle"
    dispute_opened = "dispute.opened"
    dispute_deadline_near = "dispute.deadline_near"
    dispute_resolved = "dispute.resolved"


DISPUTE_ALERT_KINDS = (AlertKind.dispute_opened, AlertKind.dispute_deadline_near, AlertKind.dispute_resolved)


class AlertOut(BaseModel):
    """Something another institution did about a borrower (or vehicle) you watch; never says which one."""

    id: int = Field(examples=[4711])
    subject: str = Field(description="The watched borrower token (the vin token for collateral.watched_vehicle)")
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


class AssociationAlertOut(BaseModel):
    """Something the association watches about its members (registry/monitoring/association.py):
    a member crossing or clearing a threshold, a dispute past its deadline."""

    id: int = Field(examples=[4712])
    kind: AlertKind = Field(examples=["member.threshold_crossed"])
    details: dict[str, Any] = Field(
        examples=[
            {
                "member": {"id": "0b4e28ba-2fa1-11d2-883f-0016d3cca427", "code": "BANK001", "name": "Bank One"},
                "figure": "uncollected_rate",
                "value": 0.41,
                "limit": 0.3,
                "direction": "above",
            }
        ]
    )
    at: datetime


class AssociationAlertFeed(BaseModel):
    data: list[AssociationAlertOut]
    next_cursor: str = Field(
        description="Always present: pass as `after` to continue; equal to the given cursor when nothing is new"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": 4712,
                            "kind": "member.threshold_crossed",
                            "details": {
                                "member": {
                                    "id": "0b4e28ba-2fa1-11d2-883f-0016d3cca427",
                                    "code": "BANK001",
                                    "name": "Bank One",
                                },
                                "figure": "uncollected_rate",
                                "value": 0.41,
                                "limit": 0.3,
                                "direction": "above",
                            },
                            "at": "2026-11-28T12:00:03Z",
                        }
                    ],
                    "next_cursor": "WzQ1NjY5LDQ3MTJd",
                }
            ]
        }
    )


class CollateralAlertOut(BaseModel):
    """The vehicle of one of your live accounts also backs a live account at another
    institution (never which): raised once per pair of accounts, to both members."""

    id: int = Field(examples=[4713])
    subject: None = Field(default=None, description="Always null: the alert is about your account's vehicle")
    label: None = None
    kind: Literal[AlertKind.collateral_double_pledge]
    status: None = None
    account_ref: str = Field(description="Your own account whose vehicle is pledged elsewhere", examples=["AL-0042"])
    record_id: uuid.UUID = Field(description="Your own record of that account")
    at: datetime


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
    data: list[AlertOut | CheckpointAlertOut | CollateralAlertOut | DisputeAlertOut | AssociationAlertOut]
    next_cursor: str = Field(
        description="Always present: pass as `after` to continue; equal to the given cursor when nothing is new"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": 4711,
                            "subject": EXAMPLE_SUBJECT,
                            "label": "branch 12 auto loans",
                            "kind": "new_delinquency",
                            "status": "dpd_31_60",
                            "at": "2026-11-28T09:30:00Z",
                        },
                        {
                            "id": 4712,
                            "subject": None,
                            "label": None,
                            "kind": "audit_checkpoint",
                            "status": None,
                            "at": "2026-11-28T09:31:00Z",
                            "checkpoint": CheckpointHead.model_config["json_schema_extra"]["examples"][0],
                        },
                    ],
                    "next_cursor": "WzQ4MjEwMzc3LDQ3MTJd",
                }
            ]
        }
    )


class WebhookPut(RequestModel):
    url: str = Field(min_length=8, max_length=2000, examples=["https://lender.example/registry/alerts"])
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Signing secret; when absent a new one is generated and returned once",
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"url": "https://lender.example/registry/alerts"}]}
    )


class WebhookOut(ResponseModel):
    url: str
    secret: str | None = Field(
        default=None, description="Only in the answer to a PUT that generated the secret: store it now"
    )
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://lender.example/registry/alerts",
                    "secret": None,
                    "created_at": "2026-11-02T08:45:00Z",
                    "updated_at": "2026-11-02T08:45:00Z",
                }
            ]
        },
    )


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

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 90211,
                    "event": "alert",
                    "alert_id": 4711,
                    "status": "delivered",
                    "attempts": 1,
                    "next_attempt_at": "2026-11-28T09:30:01Z",
                    "last_attempt_at": "2026-11-28T09:30:01Z",
                    "last_status_code": 204,
                    "last_error": None,
                    "created_at": "2026-11-28T09:30:00Z",
                    "delivered_at": "2026-11-28T09:30:01Z",
                }
            ]
        },
    )
