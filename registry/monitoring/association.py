"""Association alerts: what the association watches about its members, in its own alert feed
(`GET /admin/alerts`) and delivered to its own webhook when one is set (a client of the
association with the `monitor` scope sets it with `PUT /v1/webhook`), through the same
outbox and delivery worker as members' alerts.

Any domain raises one through `raise_association_alert`, in the transaction of the change
it reports, on a connection that sees across members (the service's own pool, or inside
`Tenancy.across_members`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from registry.context import AssociationContext
from registry.core.pagination import encode_cursor
from registry.monitoring import repository
from registry.monitoring.models import ASSOCIATION_ALERT_KINDS
from registry.monitoring.schemas import AssociationAlertFeed, AssociationAlertOut
from registry.monitoring.service import START, _int_cursor

THRESHOLD_CROSSED = "member.threshold_crossed"
THRESHOLD_CLEARED = "member.threshold_cleared"
DISPUTE_OVERDUE = "dispute.overdue"


async def raise_association_alert(
    conn: asyncpg.Connection,
    kind: str,
    *,
    member_id: uuid.UUID | None,
    details: dict[str, Any],
    at: datetime,
) -> int | None:
    """Raise one association alert of `kind` (one of ASSOCIATION_ALERT_KINDS) about
    `member_id` (None when it concerns no one member), saying `details` (JSON; no borrower
    token, no amount of a single account). It lands when the caller's transaction commits,
    with its webhook delivery queued if the association has a webhook. Returns its id (None
    before the association exists). De-duplication is the caller's rule: raise once per event."""
    if kind not in ASSOCIATION_ALERT_KINDS:
        raise ValueError(f"not an association alert kind: {kind}")
    return await repository.raise_association_alert(conn, kind, member_id, details, at)


async def feed(ctx: AssociationContext, *, after: str | None, limit: int) -> AssociationAlertFeed:
    """The association's alerts after the cursor, exactly once each (the member feed's rules)."""
    position = _int_cursor(after, 2) or START
    found = await repository.feed(
        ctx.conn, ctx.tenancy.member, (position[0], position[1]), limit, kinds=ASSOCIATION_ALERT_KINDS
    )
    data = [AssociationAlertOut(id=r.id, kind=r.kind, details=r.details or {}, at=r.at) for r in found]
    if found:
        position = [found[-1].txid, found[-1].id]
    return AssociationAlertFeed(
        data=data, next_cursor=after if after is not None and not found else encode_cursor(position)
    )
