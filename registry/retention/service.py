"""Rules of retention: negative information leaves 5 years after the delinquency ends
(`records.expires_on`, set by the records upsert), with its history; inquiries and alerts
leave after 24 months, finished webhook deliveries after 30 days (retention.policy). One
pass = one statement and one audit row with the counts (never a token). It runs on demand
(HTTP, CLI) and daily inside the service (`scheduler`)."""

from __future__ import annotations

from datetime import datetime

from registry.audit import auditor
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.core.db import Tx
from registry.retention import repository
from registry.retention.policy import alerts_cutoff, deliveries_cutoff, inquiries_cutoff
from registry.retention.schemas import RetentionResult
from registry.stats import rollup

SCHEDULER_ACTOR = "scheduler"


RESOURCE = "retention"


async def run(tx: Tx, *, now: datetime) -> RetentionResult:
    """Purge inside the caller's transaction; the caller audits the counts (`details`)."""
    cutoffs = {
        "inquiries_before": inquiries_cutoff(now),
        "alerts_before": alerts_cutoff(now),
        "webhook_deliveries_before": deliveries_cutoff(now),
    }
    counts = await repository.purge(tx.conn, now.date(), **cutoffs)
    await rollup.forget_purged(tx.conn, cutoffs["inquiries_before"])  # the statistics' rollups of those days
    return RetentionResult(day=now.date(), **cutoffs, **counts)


def details(result: RetentionResult, via: str) -> dict[str, object]:
    """What the audit row of a pass holds: the counts and cutoffs, never a token."""
    return {**result.model_dump(mode="json"), "via": via}


async def run_and_audit(tx: Tx, *, now: datetime, actor: str) -> RetentionResult:
    """A pass started by the service itself or the CLI, audited as their own work."""
    result = await run(tx, now=now)
    await auditor.record_event(
        tx.conn, AuditAction.RETENTION_RUN, actor=Actor(None, actor), resource=RESOURCE, details=details(result, actor)
    )
    return result
