"""SQL of collateral: which live accounts of other members a vehicle already backs, the
`collateral.double_pledge` alerts raised for both sides of each such pair, once per pair, and
the one call of a vehicle check."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.core import rows
from registry.core.tenancy import Member, Tenancy
from registry.disputes import rules as dispute_rules
from registry.monitoring.repository import alert_outbox_cte
from registry.records import rules as record_rules

DOUBLE_PLEDGE = "collateral.double_pledge"


def pledge_live(record: str, today: str, now: str = "now()") -> str:
    """The account still stands on its vehicle: held, shown in answers, not settled or closed."""
    return (
        f"{record_rules.held(record, today)} AND {dispute_rules.answered(record, now)}"
        f" AND {record}.status <> 'settled' AND {record}.closed_on IS NULL"
    )


WATCHED_VEHICLE = "collateral.watched_vehicle"


def watcher_holds_live_pledge(watch: str, today: str) -> str:
    """SQL condition: the member of vehicle watch `watch` holds a live account on its vehicle."""
    return f"""EXISTS (
        SELECT 1 FROM record_collateral wc JOIN records wr ON wr.id = wc.record_id
        WHERE wc.vehicle_key = {watch}.vehicle_key AND wc.member_id = {watch}.member_id AND {pledge_live("wr", today)}
    )"""


# $1 the reporter, $2 its records just written with a vehicle, $3 today. Each pair of live
# accounts on one vehicle, one the reporter's and one another member's, gets an alert on
# either side carrying that side's own account; the unique index keeps it to one per pair.
# Every other member watching one of the vehicles (and still holding a live account on it)
# gets a watched-vehicle alert, once per reported account. One statement for both.
COLLATERAL_ALERTS = f"""
WITH mine AS (
    SELECT r.id, r.account_ref, r.status, c.vehicle_key, ({pledge_live("r", "$3")}) AS live
    FROM records r JOIN record_collateral c ON c.record_id = r.id
    WHERE r.id = ANY($2::uuid[]) AND r.member_id = $1 AND {record_rules.held("r", "$3")}
),
pairs AS (
    SELECT m.id AS mine_id, m.account_ref AS mine_ref, m.vehicle_key,
           o.id AS other_id, o.account_ref AS other_ref, o.member_id AS other_member
    FROM mine m
    JOIN record_collateral oc ON oc.vehicle_key = m.vehicle_key AND oc.member_id <> $1
    JOIN records o ON o.id = oc.record_id AND {pledge_live("o", "$3")}
    WHERE m.live
),
pledge_alerts AS (
    INSERT INTO alerts (member_id, subject_key, kind, source_member_id, account_ref, record_id, other_record_id)
    SELECT $1, vehicle_key, '{DOUBLE_PLEDGE}', other_member, mine_ref, mine_id, other_id FROM pairs
    UNION ALL
    SELECT other_member, vehicle_key, '{DOUBLE_PLEDGE}', $1, other_ref, other_id, mine_id FROM pairs
    ON CONFLICT (member_id, record_id, other_record_id) WHERE kind = '{DOUBLE_PLEDGE}' DO NOTHING
    RETURNING id, member_id
),
watch_alerts AS (
    INSERT INTO alerts (member_id, subject_key, subject_sealed, label, kind, status, source_member_id, other_record_id)
    SELECT w.member_id, w.vehicle_key, w.vehicle_sealed, w.label, '{WATCHED_VEHICLE}', m.status, $1, m.id
    FROM mine m JOIN vehicle_watches w ON w.vehicle_key = m.vehicle_key
    WHERE w.member_id <> $1 AND {watcher_holds_live_pledge("w", "$3")}
    ON CONFLICT (member_id, other_record_id) WHERE kind = '{WATCHED_VEHICLE}' DO NOTHING
    RETURNING id, member_id
),
raised AS (
    SELECT * FROM pledge_alerts UNION ALL SELECT * FROM watch_alerts
),
{alert_outbox_cte("queued", "raised")}
SELECT count(*) FROM raised
"""


async def raise_collateral_alerts(
    conn: asyncpg.Connection, reporter: Member, record_ids: Sequence[uuid.UUID], today: date
) -> int:
    return await conn.fetchval(COLLATERAL_ALERTS, reporter.member_id, list(record_ids), today)


# --- vehicle watches ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VehicleWatchAdded:
    ord: int
    held: bool
    created: bool | None


@dataclass(frozen=True, slots=True)
class VehicleWatchRow:
    id: int
    vehicle_key: bytes
    vehicle_sealed: bytes
    label: str | None
    created_at: datetime


ADD_VEHICLE_WATCHES = f"""
WITH input AS (
    SELECT * FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS t(vehicle_key, vehicle_sealed, ord)
),
checked AS (
    SELECT i.*, {watcher_holds_live_pledge("w", "$5")} AS held
    FROM input i CROSS JOIN LATERAL (SELECT $1::uuid AS member_id, i.vehicle_key) w
),
written AS (
    INSERT INTO vehicle_watches AS w (member_id, vehicle_key, vehicle_sealed, label)
    SELECT $1, c.vehicle_key, c.vehicle_sealed, $4 FROM checked c
    WHERE (SELECT bool_and(held) FROM checked)
    ON CONFLICT (member_id, vehicle_key) DO UPDATE SET label = coalesce(EXCLUDED.label, w.label)
    RETURNING w.vehicle_key, (w.xmax = 0) AS created
)
SELECT c.ord, c.held, wr.created FROM checked c LEFT JOIN written wr USING (vehicle_key) ORDER BY c.ord
"""


async def add_vehicle_watches(
    conn: asyncpg.Connection, watcher: Member, keys: list[bytes], sealed: list[bytes], label: str | None, today: date
) -> list[VehicleWatchAdded]:
    """Watch every vehicle, or none when any backs no live account of the member."""
    return rows.many(
        VehicleWatchAdded, await conn.fetch(ADD_VEHICLE_WATCHES, watcher.member_id, keys, sealed, label, today)
    )


async def list_vehicle_watches(
    conn: asyncpg.Connection, watcher: Member, *, after_id: int, limit: int, today: date
) -> list[VehicleWatchRow]:
    return rows.many(
        VehicleWatchRow,
        await conn.fetch(
            f"""
        SELECT {rows.columns(VehicleWatchRow, "w")} FROM vehicle_watches w
        WHERE w.member_id = $1 AND w.id > $2 AND {watcher_holds_live_pledge("w", "$4")}
        ORDER BY w.id LIMIT $3
        """,
            watcher.member_id,
            after_id,
            limit,
            today,
        ),
    )


async def delete_vehicle_watch(conn: asyncpg.Connection, watcher: Member, vehicle_key: bytes) -> bool:
    row = await conn.fetchrow(
        "DELETE FROM vehicle_watches WHERE member_id = $1 AND vehicle_key = $2 RETURNING 1",
        watcher.member_id,
        vehicle_key,
    )
    return row is not None


# --- vehicle checks (registry/collateral/statement.py, in registry_collateral_exposure) ----

VEHICLE_CHECK = "SELECT * FROM registry_collateral_exposure($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"


@dataclass(frozen=True, slots=True)
class VehicleRow:
    """One vehicle's answer (the statement's RESULT_COLUMNS), with the verdict repeated."""

    ord: int
    allowed: bool
    within_quota: bool
    quota_used: int
    refused: bool
    found: bool
    live_elsewhere: int | None
    institutions_elsewhere: int | None
    delinquent_elsewhere: int | None
    latest_opened_on: date | None
    own_accounts: int | None


async def check_vehicles(
    pool: asyncpg.Pool,
    tenancy: Tenancy,
    *,
    vehicle_keys: list[bytes],
    purpose: str,
    consent_ref: str | None,
    requires_own_record: bool,
    now: datetime,
    audit: tuple[uuid.UUID | None, str | None, str | None, dict[str, Any]],
    quota_per_minute: int,
) -> list[VehicleRow]:
    tenant = tenancy.tenant
    assert isinstance(tenant, Member)
    member_id, _, client_id, expires, proof = tenancy.prover.prove(tenant, tenancy.client_id)
    _, _, request_id, details = audit
    return rows.many(
        VehicleRow,
        await pool.fetch(
            VEHICLE_CHECK,
            member_id,
            vehicle_keys,
            purpose,
            consent_ref,
            now,
            now.date(),
            requires_own_record,
            client_id,
            request_id,
            details,
            quota_per_minute,
            expires,
            proof,
        ),
    )
