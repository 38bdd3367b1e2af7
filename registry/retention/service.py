"""Rules of retention: negative information leaves 5 years after the delinquency ends
(`records.expires_on`, set by the records upsert), with its history; inquiries and alerts
leave after 24 months, finished webhook deliveries after 30 days (retention.policy). One
pass = one statement and one audit row with the counts (never a token). It runs on demand
(HTTP, CLI) and daily inside the service (`scheduler`)."""

from __future__ import annotations

from datetime import datetime

from registry.audit import repository as audit_repository
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEntry, AuditIntent
from registry.core.db import Tx
from registry.retention import repository
from registry.retention.policy import alerts_cutoff, deliveries_cutoff, inquiries_cutoff
from registry.retention.schemas import RetentionResult

SCHEDULER_ACTOR = "scheduler"


async def run(tx: Tx, *, now: datetime, audit: AuditIntent) -> RetentionResult:
    """Purge inside the caller's transaction; the caller's audit row carries the counts."""
    cutoffs = {"inquiries_before": inquiries_cutoff(now), "alerts_before": alerts_cutoff(now),
               "webhook_deliveries_before": deliveries_cutoff(now)}
    counts = await repository.purge(tx.conn, now.date(), **cutoffs)
    result = RetentionResult(day=now.date(), **cutoffs, **counts)
    audit.resource = "retention"
    audit.details = result.model_dump(mode="json")
    return result


async def run_and_audit(tx: Tx, *, now: datetime, actor: str) -> RetentionResult:
    """A pass started by the service itself or the CLI, which write their own audit row."""
    intent = AuditIntent(AuditAction.RETENTION_RUN)
    result = await run(tx, now=now, audit=intent)
    await audit_repository.append(
        tx.conn,
        AuditEntry(action=intent.action, outcome=200, client_id=actor, resource=intent.resource,
                   details={**intent.details, "via": actor}),
    )
    return result
