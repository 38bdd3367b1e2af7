"""Portfolio monitoring: watches, the alert feed, the webhook endpoint and what it is sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from registry_client.types._models import RequestModel, ResponseModel

MAX_WATCH_BATCH = 1000


class WatchCreate(RequestModel):
    kind: str | None = Field(default=None, description="`vehicle` to watch vin tokens")
    subjects: list[str] = Field(min_length=1, max_length=MAX_WATCH_BATCH)
    label: str | None = Field(default=None, min_length=1, max_length=200)


class WatchBatchResult(ResponseModel):
    created: int = Field(default=0, description="Subjects newly watched")
    existing: int = Field(default=0, description="Subjects already watched (label replaced)")


class Watch(ResponseModel):
    subject: str
    label: str | None = None
    created_at: datetime | None = None


class AlertKind(StrEnum):
    NEW_DELINQUENCY = "new_delinquency"
    WORSENED = "worsened"
    HARD_INQUIRY = "hard_inquiry"
    AUDIT_CHECKPOINT = "audit_checkpoint"
    COLLATERAL_DOUBLE_PLEDGE = "collateral.double_pledge"
    COLLATERAL_WATCHED_VEHICLE = "collateral.watched_vehicle"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_DEADLINE_NEAR = "dispute.deadline_near"
    DISPUTE_RESOLVED = "dispute.resolved"


class AssociationAlertKind(StrEnum):
    """The kinds of the association's own feed (`client.admin.alerts`)."""

    MEMBER_THRESHOLD_CROSSED = "member.threshold_crossed"
    MEMBER_THRESHOLD_CLEARED = "member.threshold_cleared"
    DISPUTE_OVERDUE = "dispute.overdue"


class DisputedRecord(ResponseModel):
    """A record of yours that a dispute alert covers."""

    record_id: str
    account_ref: str | None = Field(
        default=None, description="None once retention deleted the record"
    )
    outcome: str | None = Field(
        default=None,
        description="dispute.resolved only: `corrected`, `suppressed`, `kept` or `superseded`",
    )


class Alert(ResponseModel):
    """Something another institution did about a watched borrower; never says which one.
    `status` is None for `hard_inquiry`. An `audit_checkpoint` alert has no subject: it
    carries `checkpoint`, the signed head of the registry's audit log, to keep.

    The other kinds have no subject either and carry fields of their own:
    `collateral.double_pledge` your `account_ref` and `record_id`; `dispute.opened`,
    `dispute.deadline_near` and `dispute.resolved` the `dispute_id`, the borrower's `reason`,
    the `deadline`, your `records` it covers and (when resolved) the `resolution`. A kind
    this release does not know is kept with its fields as extra attributes."""

    id: str
    subject: str | None = None
    label: str | None = None
    kind: str
    status: str | None = None
    at: datetime
    checkpoint: dict[str, Any] | None = None
    account_ref: str | None = Field(
        default=None,
        description="collateral.double_pledge: your own account whose car is pledged elsewhere",
    )
    record_id: str | None = None
    dispute_id: str | None = None
    reason: str | None = None
    deadline: datetime | None = None
    resolution: str | None = Field(
        default=None, description="dispute.resolved: `upheld`, `rejected` or `unverifiable`"
    )
    records: list[DisputedRecord] = Field(
        default_factory=list, description="dispute alerts: your records the dispute covers"
    )


class AlertFeed(ResponseModel):
    """One read of the feed. `next_cursor` is always present: pass it as `after` next time."""

    data: list[Alert]
    next_cursor: str


class AssociationAlert(ResponseModel):
    """An alert of the association's feed: a member crossed (or came back within) a limit set
    with `client.admin.thresholds.set`, or a dispute went past its deadline. `details` holds
    the member and, for thresholds, the figure, its value, the limit and the direction."""

    id: str
    kind: str
    details: dict[str, Any] = Field(default_factory=dict)
    at: datetime


class AssociationAlertFeed(ResponseModel):
    data: list[AssociationAlert]
    next_cursor: str


class WebhookPut(RequestModel):
    url: str = Field(min_length=8, max_length=2000)
    secret: str | None = Field(default=None, min_length=16, max_length=200, repr=False)


class Webhook(ResponseModel):
    url: str
    secret: str | None = Field(
        default=None,
        description="Only in the answer to a `set` that generated the secret",
        repr=False,  # never in repr() or str(): read the attribute to store it
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Delivery(ResponseModel):
    id: str
    event: str
    alert_id: str | None = None
    status: str
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None


class WebhookEvent(ResponseModel):
    """What a webhook delivery carries: `type` `alert` (with the alert in `data`) or `ping`.
    `id` is the delivery's, the same on every retry of it: de-duplicate by it."""

    id: str
    type: str
    created_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def alert(self) -> Alert | None:
        return Alert.model_validate(self.data) if self.type == "alert" else None
