"""SQL of the exposure answer: one call that checks the purpose rule and the member's
quota, aggregates what other institutions report, records one inquiry per subject (and, for
a hard inquiry, an alert to each other member watching the subject, with its webhook
outbox row) and appends the audit row, so an exposure request costs one database round
trip. It returns aggregates only: no other institution's identity or row leaves it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

# The statement itself is the `registry_exposure` function (migrations/sql/
# registry_exposure_v1.sql, run from PL/pgSQL on a plan each connection keeps, migration
# 0010): it runs as the role that may read every member's rows, and is the only path by
# which a member's request reaches other members' records.
EXPOSURE = "SELECT * FROM registry_exposure($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"


async def query(
    pool: asyncpg.Pool,
    *,
    member_id: uuid.UUID,
    subject_keys: list[bytes],
    purpose: str,
    consent_ref: str | None,
    hard: bool,
    requires_own_record: bool,
    now: datetime,
    today: date,
    client_id: str,
    request_id: str | None,
    audit_details: dict[str, Any],
    quota_per_minute: int,
) -> list[asyncpg.Record]:
    return await pool.fetch(
        EXPOSURE,
        member_id, subject_keys, purpose, consent_ref, hard, now, today, requires_own_record,
        client_id, request_id, audit_details, quota_per_minute,
    )
