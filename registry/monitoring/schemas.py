"""API shapes of monitoring: watches, alerts, the webhook endpoint and its deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

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


EXAMPLE_SUBJECT = "9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b"


class WatchCreate(RequestModel):
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


class AlertFeed(BaseModel):
    data: list[AlertOut | CheckpointAlertOut]
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
