"""Rules of collateral: a vehicle that backs live accounts at two members is a double pledge,
told to both (each about its own account, never naming the other member); and vehicle checks,
which count what other institutions lend against a vehicle, never which."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
import orjson

from registry.collateral import repository
from registry.collateral.repository import VehicleRow
from registry.collateral.schemas import VehicleCheckRequest
from registry.context import MemberContext
from registry.core.tenancy import Tenancy
from registry.exposure.schemas import Purpose
from registry.exposure.service import judged


async def raise_collateral_alerts(
    conn: asyncpg.Connection, tenancy: Tenancy, record_ids: Sequence[uuid.UUID], today: date | None
) -> int:
    """Call in the transaction that wrote `record_ids` (the reporter's records that now carry
    a vehicle): one `collateral.double_pledge` alert per side of each new pair of live
    accounts on the same vehicle, and one `collateral.watched_vehicle` alert per other member
    watching the vehicle and account. One statement whatever the batch; returns alerts raised."""
    if not record_ids:
        return 0
    async with tenancy.across_members(conn):  # other members' pledges and alerts
        return await repository.raise_collateral_alerts(conn, tenancy.member, record_ids, today or date.today())


async def check_vehicles(ctx: MemberContext, request: VehicleCheckRequest) -> tuple[bytes, dict[str, str]]:
    """The answer as JSON bytes and its RateLimit headers; the one call also wrote the audit
    row. The purpose rule is the borrower exposure's: a loan application needs the borrower's
    consent, any other purpose a live account of the caller's on every vehicle."""
    keys = ctx.subjects.keys(request.vehicles)
    quota_per_minute = ctx.caller.standing.exposure_per_minute or ctx.settings.default_exposure_per_minute
    now = ctx.now
    ctx.audit.resource = "collateral"
    ctx.audit.details = {"purpose": request.purpose.value, "consent_ref": request.consent_ref, "vehicles": len(keys)}
    found = await repository.check_vehicles(
        ctx.runtime.db.pool,
        ctx.tenancy,
        vehicle_keys=keys,
        purpose=request.purpose.value,
        consent_ref=request.consent_ref,
        requires_own_record=request.purpose is not Purpose.loan_application,
        now=now,
        audit=ctx.audit.statement_values(),
        quota_per_minute=quota_per_minute,
    )
    ctx.audit.recorded_by_statement()
    policy, used = judged(
        found,
        request.vehicles,
        purpose=request.purpose,
        quota_per_minute=quota_per_minute,
        now=now,
        field="vehicles",
        needs="an account of yours on each vehicle",
        missing="no account of yours",
    )
    answer = {"results": [_answer(token, row) for token, row in zip(request.vehicles, found, strict=True)]}
    return orjson.dumps(answer), policy.headers(now, used)


def _answer(token: str, row: VehicleRow) -> dict[str, Any]:
    return {
        "vehicle": token,
        "found": row.found,
        "live_accounts_elsewhere": row.live_elsewhere or 0,
        "institutions_elsewhere": row.institutions_elsewhere or 0,
        "delinquent_elsewhere": row.delinquent_elsewhere or 0,
        "latest_opened_on": row.latest_opened_on.isoformat() if row.latest_opened_on else None,
        "own": {"accounts": row.own_accounts or 0},
    }
