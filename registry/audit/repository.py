"""SQL of the audit log: append, and read newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from registry.audit.schemas import AuditEntry

INSERT = """
INSERT INTO audit_log (member_id, client_id, action, resource, outcome, request_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


def _scrub(value: Any) -> Any:
    """jsonb cannot hold NUL characters; whatever a caller sent, the audit row must land."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


async def append(conn: asyncpg.Connection | asyncpg.Pool, entry: AuditEntry) -> None:
    await conn.execute(
        INSERT,
        entry.member_id,
        _scrub(entry.client_id),
        entry.action,
        _scrub(entry.resource),
        entry.outcome,
        entry.request_id,
        _scrub(entry.details),
    )


async def list_events(
    conn: asyncpg.Connection,
    *,
    member_id: uuid.UUID | None,
    action: str | None,
    outcome: int | None,
    since: datetime | None,
    until: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, at, member_id, client_id, action, resource, outcome, request_id, details
        FROM audit_log
        WHERE ($1::uuid IS NULL OR member_id = $1)
          AND ($2::text IS NULL OR action = $2)
          AND ($3::int IS NULL OR outcome = $3)
          AND ($4::timestamptz IS NULL OR at >= $4)
          AND ($5::timestamptz IS NULL OR at < $5)
          AND ($6::bigint IS NULL OR id < $6)
        ORDER BY id DESC
        LIMIT $7
        """,
        member_id,
        action,
        outcome,
        since,
        until,
        before_id,
        limit,
    )
