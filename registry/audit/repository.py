"""SQL of the audit log: append (for `registry.audit.auditor` only), and read newest first."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from registry.audit.schemas import AuditEntry
from registry.core import rows


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    member_id: uuid.UUID | None
    member_code: str | None
    client_id: str | None
    action: str
    resource: str | None
    outcome: int
    request_id: str | None
    details: dict[str, Any]


COLUMNS = "member_id, client_id, action, resource, outcome, request_id, details"
INSERT = f"INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"


def insert_cte(name: str, rows: str) -> str:
    """A CTE appending the audit rows that the query `rows` yields (columns as COLUMNS), for a
    statement that writes its own audit row in the same round trip (the exposure statement).
    The values must come from `registry.audit.auditor` (scrubbed like every other row)."""
    return f"{name} AS (\n    INSERT INTO audit_log ({COLUMNS})\n    {rows}\n)"


async def append(conn: asyncpg.Connection | asyncpg.Pool, entry: AuditEntry) -> None:
    """Append one row; only `registry.audit.auditor` calls this, with scrubbed values."""
    await conn.execute(
        INSERT,
        entry.member_id,
        entry.client_id,
        entry.action,
        entry.resource,
        entry.outcome,
        entry.request_id,
        entry.details,
    )


# The row's columns, with the acting member's code beside its id.
_SELECTED = ", ".join(
    "m.code AS member_code" if f.name == "member_code" else f"a.{f.name}" for f in dataclasses.fields(AuditRow)
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
) -> list[AuditRow]:
    return rows.many(
        AuditRow,
        await conn.fetch(
            f"""
        SELECT {_SELECTED}
        FROM audit_log a LEFT JOIN members m ON m.id = a.member_id
        WHERE ($1::uuid IS NULL OR a.member_id = $1)
          AND ($2::text IS NULL OR a.action = $2)
          AND ($3::int IS NULL OR a.outcome = $3)
          AND ($4::timestamptz IS NULL OR a.at >= $4)
          AND ($5::timestamptz IS NULL OR a.at < $5)
          AND ($6::bigint IS NULL OR a.id < $6)
        ORDER BY a.id DESC
        LIMIT $7
        """,
            member_id,
            action,
            outcome,
            since,
            until,
            before_id,
            limit,
        ),
    )
