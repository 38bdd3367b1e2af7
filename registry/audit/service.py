"""Rules of the audit log: what a page of events is (rows are written by `registry.audit.auditor`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from registry.audit import repository
from registry.audit.schemas import AuditEvent
from registry.core.db import Tx
from registry.core.pagination import Page, decode_cursor, id_cursor


async def list_events(
    tx: Tx,
    *,
    member_id: uuid.UUID | None,
    action: str | None,
    outcome: int | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditEvent]:
    position = decode_cursor(cursor, 1)
    rows = await repository.list_events(
        tx.conn,
        member_id=member_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        before_id=int(position[0]) if position else None,
        limit=limit + 1,
    )
    return Page[AuditEvent].from_rows(
        rows, limit, lambda r: AuditEvent.model_validate(r, from_attributes=True), id_cursor
    )
