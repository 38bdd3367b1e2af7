"""SQL of the exposure answer: one call of `registry_exposure` (registry/exposure/statement.py,
installed by migration 0013), which checks the caller's proof of its member, the purpose rule
and the quota, aggregates, writes the inquiries, alerts and audit row, and answers one typed
row per subject, so an exposure request costs one database round trip."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.core import rows
from registry.core.db import statements
from registry.core.tenancy import Member, Tenancy

EXPOSURE = "SELECT * FROM registry_exposure($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """One subject's answer (the statement's RESULT_COLUMNS), with the verdict repeated."""

    ord: int
    allowed: bool
    within_quota: bool
    quota_used: int
    refused: bool
    institutions_reporting: int | None
    institutions_delinquent: int | None
    accounts_total: int | None
    accounts_delinquent: int | None
    worst: int | None
    latest_delinquent_since: date | None
    uncollected: int | None
    in_arrangement: int | None
    disputed: bool | None
    by_status: dict[str, int] | None
    by_product: dict[str, int] | None
    amounts: dict[str, list[int]] | None
    worst_24m: int | None
    own_accounts: int | None
    own_delinquent: int | None
    own_worst: int | None
    last_30d: int | None
    last_90d: int | None
    institutions_30d: int | None
    institutions_90d: int | None
    contingent_accounts: int | None
    contingent_delinquent: int | None
    contingent_worst: int | None
    contingent_by_role: dict[str, list[int]] | None
    contingent_amounts: dict[str, list[int]] | None


async def query(
    pool: asyncpg.Pool,
    tenancy: Tenancy,
    *,
    subject_keys: list[bytes],
    purpose: str,
    consent_ref: str | None,
    hard: bool,
    requires_own_record: bool,
    now: datetime,
    audit: tuple[uuid.UUID | None, str | None, str | None, dict[str, Any]],
    quota_per_minute: int,
) -> list[SubjectRow]:
    """`audit`: the request's (member, client, request id, details), from its RequestAudit."""
    tenant = tenancy.tenant
    assert isinstance(tenant, Member)
    member_id, _, client_id, expires, proof = tenancy.prover.prove(tenant, tenancy.client_id)
    _, _, request_id, details = audit
    async with statements(pool) as conn:  # one statement: nothing to reset after it
        found = await conn.fetch(
            EXPOSURE,
            member_id,
            subject_keys,
            purpose,
            consent_ref,
            hard,
            now,
            now.date(),
            requires_own_record,
            client_id,
            request_id,
            details,
            quota_per_minute,
            expires,
            proof,
        )
    return rows.many(SubjectRow, found)
