"""HTTP of monitoring (scope `monitor`): `/v1/watches`, `/v1/alerts`, `/v1/webhook`; and the
association's own alert feed, `/admin/alerts`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from registry.audit.actions import AuditAction
from registry.collateral import watches as vehicle_watches
from registry.context import Admin, Monitor, WriteQuota, audited
from registry.core.errors import Forbidden, Invalid, NotFound, Unauthenticated, problem_responses
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.idempotency.http import IdempotencyKeyHeader
from registry.idempotency.service import idempotent
from registry.monitoring import association, service
from registry.monitoring.schemas import (
    AlertFeed,
    AssociationAlertFeed,
    DeliveryOut,
    DeliveryStatus,
    WatchBatchResult,
    WatchCreate,
    WatchKind,
    WatchOut,
    WebhookOut,
    WebhookPut,
)

WatchKindParam = Annotated[WatchKind, Query(description="`vehicle` for watches on vehicles")]

router = APIRouter(
    prefix="/v1",
    tags=["monitoring"],
    dependencies=[WriteQuota],
    responses=problem_responses(Unauthenticated, Forbidden),
)


@router.post(
    "/watches",
    dependencies=[audited(AuditAction.MONITOR_WATCH_ADD)],
    responses=problem_responses(Invalid),
    summary="Watch up to 1000 borrowers you hold a live record on, or vehicles of your live accounts",
    description=(
        "Another institution's new or worse delinquency, or hard inquiry, on a watched borrower raises an alert. "
        "Every subject must have a live record of yours, else 403 naming them and nothing is watched. A watch "
        'ends by itself when you no longer hold a live record on the subject. With `"kind": "vehicle"` the '
        "subjects are vin tokens of vehicles backing live accounts of yours; another member's account on a "
        "watched vehicle raises `collateral.watched_vehicle`."
    ),
)
async def add_watches(
    body: WatchCreate, ctx: Monitor, idempotency_key: IdempotencyKeyHeader = None
) -> WatchBatchResult:
    return await idempotent(
        ctx.tx,
        ctx.idempotency(idempotency_key),
        body.model_dump(mode="json"),
        WatchBatchResult,
        lambda: (
            vehicle_watches.add_vehicle_watches(ctx, body)
            if body.kind is WatchKind.vehicle
            else service.add_watches(ctx, body)
        ),
    )


@router.get(
    "/watches",
    dependencies=[audited(AuditAction.MONITOR_WATCH_LIST)],
    responses=problem_responses(Invalid),
    summary="Your watches in force",
    description="The caller's watches that have not ended, oldest first, with their labels.",
)
async def list_watches(
    ctx: Monitor, cursor: CursorParam = None, limit: LimitParam = 100, kind: WatchKindParam = WatchKind.subject
) -> Page[WatchOut]:
    if kind is WatchKind.vehicle:
        return await vehicle_watches.list_vehicle_watches(ctx, cursor=cursor, limit=limit)
    return await service.list_watches(ctx, cursor=cursor, limit=limit)


@router.delete(
    "/watches/{subject}",
    status_code=204,
    dependencies=[audited(AuditAction.MONITOR_WATCH_REMOVE)],
    responses=problem_responses(NotFound, Invalid),
    summary="Stop watching a borrower",
    description=(
        "Ends the caller's watch on the borrower token; no alert about it follows. 404 when the caller "
        "does not watch it."
    ),
)
async def remove_watch(
    subject: Annotated[str, Path(max_length=64, description="The borrower token (vin token with kind=vehicle)")],
    ctx: Monitor,
    kind: WatchKindParam = WatchKind.subject,
) -> None:
    if kind is WatchKind.vehicle:
        await vehicle_watches.remove_vehicle_watch(ctx, subject)
    else:
        await service.remove_watch(ctx, subject)


@router.get(
    "/alerts",
    dependencies=[audited(AuditAction.MONITOR_ALERTS_READ)],
    responses=problem_responses(Invalid),
    summary="The alert feed",
    description=(
        "Alerts in feed order after the cursor `after`. `next_cursor` is always present: keep it and pass it as "
        "`after` next time, and you see every alert exactly once, also while alerts are being written. An "
        "alert is listed once the transactions that could still write before it have ended."
    ),
)
async def alerts(
    ctx: Monitor,
    after: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous answer")] = None,
    limit: LimitParam = 100,
) -> AlertFeed:
    return await service.alerts(ctx, after=after, limit=limit)


@router.put(
    "/webhook",
    dependencies=[audited(AuditAction.MONITOR_WEBHOOK_SET)],
    responses=problem_responses(Invalid),
    summary="Set the endpoint that receives your alerts",
    description=(
        "https is required (plain http only to a loopback address in development). The host must be public: "
        "loopback, private and link-local addresses, and names resolving to them, are refused here and at every "
        "delivery. Without `secret` a signing "
        "secret is generated and returned in this answer only. Each delivery carries "
        '`Registry-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`.'
    ),
)
async def put_webhook(body: WebhookPut, ctx: Monitor) -> WebhookOut:
    return await service.put_webhook(ctx, body)


@router.get(
    "/webhook",
    dependencies=[audited(AuditAction.MONITOR_WEBHOOK_READ)],
    responses=problem_responses(NotFound),
    summary="Your webhook endpoint (never its secret)",
    description=(
        "The URL alerts are delivered to; the signing secret is never shown again after the PUT that "
        "generated it. 404 when none is set."
    ),
)
async def get_webhook(ctx: Monitor) -> WebhookOut:
    return await service.get_webhook(ctx)


@router.delete(
    "/webhook",
    status_code=204,
    dependencies=[audited(AuditAction.MONITOR_WEBHOOK_DELETE)],
    responses=problem_responses(NotFound),
    summary="Remove your webhook; pending deliveries are cancelled",
    description=(
        "Removes the endpoint. Deliveries not yet made are cancelled; alerts stay in the feed (GET /v1/alerts)."
    ),
)
async def delete_webhook(ctx: Monitor) -> None:
    await service.delete_webhook(ctx)


@router.post(
    "/webhook/test",
    status_code=202,
    dependencies=[audited(AuditAction.MONITOR_WEBHOOK_TEST)],
    responses=problem_responses(NotFound),
    summary="Queue a signed `ping` delivery to your endpoint",
    description=(
        "Queues a delivery of event `ping`, signed like every alert, so that you can check your endpoint "
        "and its signature check. Follow it in GET /v1/webhook/deliveries. 404 when no webhook is set."
    ),
)
async def test_webhook(ctx: Monitor) -> DeliveryOut:
    return await service.test_webhook(ctx)


@router.get(
    "/webhook/deliveries",
    dependencies=[audited(AuditAction.MONITOR_DELIVERIES_LIST)],
    responses=problem_responses(Invalid),
    summary="Your webhook deliveries, newest first",
    description=(
        "Each delivery of an alert or a ping to your endpoint: its status, attempts, the last HTTP "
        "status or error, and when it is tried next. Failed deliveries are retried with backoff."
    ),
)
async def list_deliveries(
    ctx: Monitor, status: DeliveryStatus | None = None, cursor: CursorParam = None, limit: LimitParam = 100
) -> Page[DeliveryOut]:
    return await service.list_deliveries(ctx, status=status, cursor=cursor, limit=limit)


admin_router = APIRouter(
    prefix="/admin", tags=["admin: alerts"], responses=problem_responses(Unauthenticated, Forbidden)
)


@admin_router.get(
    "/alerts",
    dependencies=[audited(AuditAction.ADMIN_ALERTS_READ)],
    responses=problem_responses(Invalid),
    summary="The association's alert feed",
    description=(
        "Association alerts in feed order after the cursor `after`: `member.threshold_crossed` and "
        "`member.threshold_cleared` (one per crossing of a threshold set with `PUT /admin/thresholds`), and "
        "`dispute.overdue`. Each carries `details` (the member, the figure, its value and the limit). The feed "
        "works as `GET /v1/alerts` does: keep `next_cursor` and pass it as `after`, and you see every alert "
        "exactly once. When the association has set a webhook (`PUT /v1/webhook` with a client of the "
        "association holding the `monitor` scope), each alert is also delivered there, signed."
    ),
)
async def association_alerts(
    ctx: Admin,
    after: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous answer")] = None,
    limit: LimitParam = 100,
) -> AssociationAlertFeed:
    return await association.feed(ctx, after=after, limit=limit)
