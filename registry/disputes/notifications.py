"""Who hears of a dispute, and when. Each lender whose record a dispute covers gets
`dispute.opened` when it is filed, `dispute.deadline_near` five days before the deadline while
it has not answered for all of its records, and `dispute.resolved` with the outcome of each;
in its alert feed and by webhook. The association is told once of each dispute left open past
its deadline (`notify_association_overdue`).

A lender's alert names its own records only: never who filed the dispute nor which other
lenders it covers. Every alert kind is raised at most once per lender and dispute (a unique
index), so the deadline check may run in every process, as often as it likes."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from registry.disputes import repository
from registry.disputes.repository import CoverableRecord, CoveredRow, OverdueDispute
from registry.monitoring import association
from registry.monitoring import repository as alerts
from registry.monitoring.schemas import AlertKind

logger = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(days=5)


def _details(
    reason: str, deadline: datetime, records: Iterable[dict[str, Any]], resolution: str | None = None
) -> dict[str, Any]:
    return {"reason": reason, "deadline": deadline.isoformat(), "resolution": resolution, "records": list(records)}


def _by_member(pairs: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for member_id, record in pairs:
        grouped.setdefault(member_id, []).append(record)
    return grouped


async def dispute_opened(
    conn: asyncpg.Connection,
    dispute_id: uuid.UUID,
    *,
    reason: str,
    deadline: datetime,
    records: Sequence[CoverableRecord],
    at: datetime,
) -> int:
    """In the filing's transaction, in association scope: every owner of a covered record."""
    grouped = _by_member((r.member_id, {"record_id": str(r.id), "account_ref": r.account_ref}) for r in records)
    return await alerts.raise_dispute_alerts(
        conn,
        AlertKind.dispute_opened,
        dispute_id,
        list(grouped),
        [_details(reason, deadline, own) for own in grouped.values()],
        at,
    )


async def dispute_resolved(
    conn: asyncpg.Connection,
    dispute_id: uuid.UUID,
    *,
    reason: str,
    deadline: datetime,
    resolution: str,
    covered: Sequence[CoveredRow],
    outcomes: dict[uuid.UUID, str],
    at: datetime,
) -> int:
    """In the resolution's transaction: every owner of a covered record, with each one's outcome."""
    grouped = _by_member(
        (c.member_id, {"record_id": str(c.record_id), "account_ref": c.account_ref, "outcome": outcomes[c.record_id]})
        for c in covered
    )
    return await alerts.raise_dispute_alerts(
        conn,
        AlertKind.dispute_resolved,
        dispute_id,
        list(grouped),
        [_details(reason, deadline, own, resolution) for own in grouped.values()],
        at,
    )


async def notify_association_overdue(
    conn: asyncpg.Connection, overdue: Sequence[OverdueDispute], now: datetime
) -> None:
    """The one place the association is told of disputes left open past their deadline, in the
    transaction that marked them told (`conn`, association scope); each dispute comes here once.
    It raises `dispute.overdue` in the association's alert feed (`GET /admin/alerts`, and its
    webhook), and says so in the service log (ids and dates only, never a subject)."""
    for dispute in overdue:
        details = {
            "dispute_id": str(dispute.id),
            "deadline": dispute.deadline.isoformat(),
            "days_overdue": (now - dispute.deadline).days,
            "records_covered": dispute.records_covered,
        }
        await association.raise_association_alert(
            conn, association.DISPUTE_OVERDUE, member_id=None, details=details, at=now
        )
        logger.warning("dispute overdue", extra=details)


@dataclass(frozen=True, slots=True)
class DeadlineCheck:
    reminded: int  # dispute.deadline_near alerts raised
    overdue: list[OverdueDispute]  # disputes the association was told of


async def check_deadlines(conn: asyncpg.Connection, now: datetime) -> DeadlineCheck:
    """One pass of the periodic deadline check, in one transaction on a connection that sees
    every member (the service's system pool): remind the lenders that have not answered, and
    tell the association of disputes that just went overdue."""
    async with conn.transaction():
        reminded = 0
        for lender in await repository.unanswered_lenders(conn, now=now, within=REMIND_BEFORE):
            reminded += await alerts.raise_dispute_alerts(
                conn,
                AlertKind.dispute_deadline_near,
                lender.dispute_id,
                [lender.member_id],
                [_details(lender.reason, lender.deadline, lender.records)],
                now,
            )
        overdue = sorted(await repository.claim_overdue(conn, now=now), key=lambda d: (d.deadline, str(d.id)))
        await notify_association_overdue(conn, overdue, now)
    return DeadlineCheck(reminded=reminded, overdue=overdue)
