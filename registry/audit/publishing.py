"""The audit checkpoint chain shown to members, so the association can be held to it.

Whoever holds the service's signing key and the database could rewrite the log and seal it
again; a head that members already keep cannot be taken back. Every
`REGISTRY_AUDIT_PUBLISH_SECONDS` (a day by default) the latest checkpoint is put in every
active member's alert feed as an `audit_checkpoint` alert; each process checks every ten
minutes at most, and an advisory lock with the last publication's time makes one of them
publish. Members read the chain of checkpoint headers since a head they hold at
`GET /v1/audit/checkpoints` (signatures and links only, never a row)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from registry.audit import auditor
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.audit.schemas import CheckpointHead
from registry.audit.sealing import CHECKPOINT_COLUMNS, FORMAT, checkpoint_head
from registry.core.errors import FieldError, Invalid
from registry.core.pagination import Page, decode_cursor, id_cursor
from registry.monitoring import repository as monitoring_repository

PUBLISH_LOCK = 0x5245_5055  # advisory lock key: one publisher at a time
CHECK_EVERY_SECONDS = 600.0
PUBLISHER = "publisher"


def check_every(publish_seconds: float) -> float:
    """How often a process looks whether a publication is due (0: publishing is off)."""
    return min(publish_seconds, CHECK_EVERY_SECONDS)


async def publish_if_due(conn: asyncpg.Connection, *, now: datetime, every_seconds: float) -> int | None:
    """Publish the latest checkpoint when the last publication is `every_seconds` old and a
    newer checkpoint exists; returns the checkpoint published, or None. Needs a connection
    that sees every member (the service's system pool)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", PUBLISH_LOCK):
            return None
        last = await monitoring_repository.last_published_checkpoint(conn)
        if last is not None and now - last.at < timedelta(seconds=every_seconds):
            return None
        head = await conn.fetchval(
            "SELECT id FROM audit_checkpoints WHERE format = $1 ORDER BY id DESC LIMIT 1", FORMAT
        )
        if head is None or (last is not None and head <= last.checkpoint_id):
            return None
        members = await monitoring_repository.raise_checkpoint_alerts(conn, head, now)
        await auditor.record_event(
            conn,
            AuditAction.AUDIT_CHECKPOINT_PUBLISH,
            actor=Actor(None, PUBLISHER),
            resource=f"audit_checkpoint:{head}",
            details={"checkpoint": head, "members": members},
        )
        return head


async def checkpoint_chain(ctx: Any, *, from_checkpoint: int, cursor: str | None, limit: int) -> Page[CheckpointHead]:
    """Checkpoint headers in chain order, from `from_checkpoint` (inclusive) or the cursor."""
    position = decode_cursor(cursor, 1)
    if position is not None and not (isinstance(position[0], int) and position[0] >= 0):
        raise Invalid("The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")])
    after = position[0] if position is not None else from_checkpoint - 1
    rows = await ctx.conn.fetch(
        f"SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE id > $1 ORDER BY id LIMIT $2", after, limit + 1
    )
    page = Page[CheckpointHead].from_rows(rows, limit, checkpoint_head, lambda r: id_cursor(checkpoint_head(r)))
    ctx.audit.resource = "audit_checkpoints"
    ctx.audit.details = {"after": after, "returned": len(page.data)}
    return page
