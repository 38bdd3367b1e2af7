"""Rules of the audit log: what a page of events is (rows are written by `registry.audit.auditor`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from registry.audit import repository
from registry.audit.schemas import AuditEvent
from registry.core.db import Tx
from registry.core.errors import FieldError, Invalid
from registry.core.pagination import Page, decode_cursor, id_cursor
from registry.core.tenancy import Tenancy

STREAM_PAGE = 1000  # rows per database round trip of an NDJSON export


@dataclass(frozen=True, slots=True)
class AuditFilter:
    member_id: uuid.UUID | None = None
    action: str | None = None
    outcome: int | None = None
    since: datetime | None = None
    until: datetime | None = None


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
    rows = await repository.list_events(
        tx.conn,
        member_id=member_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        before_id=_before(cursor),
        limit=limit + 1,
    )
    return Page[AuditEvent].from_rows(
        rows, limit, lambda r: AuditEvent.model_validate(r, from_attributes=True), id_cursor
    )


def _before(cursor: str | None) -> int | None:
    """The id a page starts below, from its cursor (a 422 when the cursor is not one of ours)."""
    position = decode_cursor(cursor, 1)
    if position is None:
        return None
    try:
        return int(position[0])
    except ValueError:
        raise Invalid(
            "The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")]
        ) from None


def export(pool: asyncpg.Pool, tenancy: Tenancy, where: AuditFilter, cursor: str | None) -> AsyncIterator[bytes]:
    """Every event matching `where`, newest first from the cursor on, as NDJSON (one AuditEvent
    a line). The cursor is checked now, before anything is sent; the rows are read as the
    client takes them (see `_pages`)."""
    return _pages(pool, tenancy, where, _before(cursor))


async def _pages(pool: asyncpg.Pool, tenancy: Tenancy, where: AuditFilter, before: int | None) -> AsyncIterator[bytes]:
    """A page at a time, each in a transaction of its own: rows written while the export runs
    have higher ids and are not in it, so the export is one consistent slice of the log."""
    while True:
        async with pool.acquire() as conn, conn.transaction():
            await tenancy.enter(conn)
            page = await repository.list_events(
                conn,
                member_id=where.member_id,
                action=where.action,
                outcome=where.outcome,
                since=where.since,
                until=where.until,
                before_id=before,
                limit=STREAM_PAGE,
            )
        if page:
            yield b"".join(
                orjson.dumps(AuditEvent.model_validate(r, from_attributes=True).model_dump(mode="json")) + b"\n"
                for r in page
            )
        if len(page) < STREAM_PAGE:
            return
        before = page[-1].id
