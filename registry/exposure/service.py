"""Rules of the exposure query: purposes and consent, what an answer holds (other
institutions only, never which), and that every accepted subject is an inquiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from registry.context import MemberContext
from registry.core.errors import FieldError, Forbidden
from registry.core.metrics import EXPOSURE_SUBJECTS
from registry.exposure import repository
from registry.exposure.repository import SubjectRow
from registry.exposure.schemas import HARD_PURPOSES, ExposureRequest, Purpose
from registry.exposure.statement import QUOTA_NAME, QUOTA_WINDOW_SECONDS
from registry.ratelimit.service import Policy
from registry.records.validation import format_minor
from registry.records.vocabulary import STATUS_BY_SEVERITY

NO_HARD_INQUIRIES = {"last_30d": 0, "last_90d": 0, "institutions_30d": 0, "institutions_90d": 0}


def _status(severity: int | None) -> str | None:
    return STATUS_BY_SEVERITY[severity] if severity is not None else None


def _amounts(amounts: dict[str, list[int]] | None) -> tuple[dict[str, str], dict[str, str]]:
    """(overdue, outstanding) by currency, as text, from the statement's [overdue, outstanding] pairs."""
    overdue: dict[str, str] = {}
    outstanding: dict[str, str] = {}
    if amounts:
        for currency in sorted(amounts):
            due, owed = amounts[currency]
            overdue[currency] = format_minor(int(due), currency)
            outstanding[currency] = format_minor(int(owed), currency)
    return overdue, outstanding


def _subject_answer(token: str, row: SubjectRow) -> dict[str, Any]:
    overdue, outstanding = _amounts(row.amounts)
    reporting = row.institutions_reporting or 0
    return {
        "subject": token,
        "found": reporting > 0,
        "institutions_reporting": reporting,
        "institutions_delinquent": row.institutions_delinquent or 0,
        "accounts": {
            "total": row.accounts_total or 0,
            "delinquent": row.accounts_delinquent or 0,
            "by_status": row.by_status or {},
            "by_product": row.by_product or {},
            "in_arrangement": row.in_arrangement or 0,
        },
        "worst_status": _status(row.worst),
        "worst_status_24m": _status(row.worst_24m),
        "overdue_amounts": overdue,
        "outstanding_amounts": outstanding,
        "latest_delinquent_since": row.latest_delinquent_since.isoformat() if row.latest_delinquent_since else None,
        "uncollected_delinquent_accounts": row.uncollected or 0,
        "disputed": bool(row.disputed),
        "hard_inquiries": {
            "last_30d": row.last_30d or 0,
            "last_90d": row.last_90d or 0,
            "institutions_30d": row.institutions_30d or 0,
            "institutions_90d": row.institutions_90d or 0,
        },
        "own": {
            "accounts": row.own_accounts or 0,
            "delinquent": row.own_delinquent or 0,
            "worst_status": _status(row.own_worst),
        },
        "contingent": _contingent(row),
    }


def _contingent(row: SubjectRow) -> dict[str, Any]:
    if not (row.contingent_accounts or row.contingent_amounts or row.contingent_by_role):
        # Most subjects guarantee nothing: the same answer without its loops (a batch pays per subject).
        return {
            "accounts": 0,
            "delinquent": row.contingent_delinquent or 0,
            "worst_status": _status(row.contingent_worst),
            "outstanding_amounts": {},
            "overdue_amounts": {},
            "by_role": {},
        }
    overdue, outstanding = _amounts(row.contingent_amounts)
    return {
        "accounts": row.contingent_accounts or 0,
        "delinquent": row.contingent_delinquent or 0,
        "worst_status": _status(row.contingent_worst),
        "outstanding_amounts": outstanding,
        "overdue_amounts": overdue,
        "by_role": {
            role: {"accounts": n, "delinquent": d} for role, (n, d) in sorted((row.contingent_by_role or {}).items())
        },
    }


async def query(ctx: MemberContext, request: ExposureRequest) -> tuple[bytes, dict[str, str]]:
    """The answer as JSON bytes and its RateLimit headers: the one call also wrote the
    inquiries, the alerts and the audit row."""
    keys = ctx.subjects.keys(request.subjects)
    quota_per_minute = ctx.caller.standing.exposure_per_minute or ctx.settings.default_exposure_per_minute
    now = ctx.now
    ctx.audit.resource = "exposure"
    ctx.audit.details = {"purpose": request.purpose.value, "consent_ref": request.consent_ref, "subjects": len(keys)}
    rows = await repository.query(
        ctx.runtime.db.pool,
        ctx.tenancy,
        subject_keys=keys,
        purpose=request.purpose.value,
        consent_ref=request.consent_ref,
        hard=request.purpose in HARD_PURPOSES,
        requires_own_record=request.purpose is not Purpose.loan_application,
        now=now,
        audit=ctx.audit.statement_values(),
        quota_per_minute=quota_per_minute,
    )
    ctx.audit.recorded_by_statement()
    policy, used = judged(
        rows,
        request.subjects,
        purpose=request.purpose,
        quota_per_minute=quota_per_minute,
        now=now,
        field="subjects",
        needs="an existing record of yours for each subject",
        missing="no record of yours",
    )
    EXPOSURE_SUBJECTS.labels(request.purpose.value).inc(len(keys))
    answer = {"results": [_subject_answer(token, row) for token, row in zip(request.subjects, rows, strict=True)]}
    return orjson.dumps(answer), policy.headers(now, used)


def judged(
    rows: Sequence[Any],
    tokens: Sequence[str],
    *,
    purpose: Purpose,
    quota_per_minute: int,
    now: datetime,
    field: str,
    needs: str,
    missing: str,
) -> tuple[Policy, int]:
    """What one exposure-like statement's first row says of the whole request (the statement
    records nothing when it refuses): over the quota is a 429, a purpose that needs an own
    account the caller lacks for some token is a 403 naming them. The quota policy and the
    count used, for the answer's headers, otherwise."""
    policy = Policy(QUOTA_NAME, quota_per_minute, QUOTA_WINDOW_SECONDS)
    used = rows[0].quota_used if rows else 0
    if rows and not rows[0].within_quota:
        raise policy.refusal(
            now, used, f"Over the exposure quota of {quota_per_minute} subjects per minute; nothing was recorded"
        )
    if rows and not rows[0].allowed:
        refused = [tokens[row.ord - 1] for row in rows if row.refused]
        raise Forbidden(
            f"Purpose {purpose.value} needs {needs}; {len(refused)} {field[:-1]}(s) have none. Nothing was recorded.",
            errors=[FieldError(field=field, message=f"{missing}: {token}") for token in refused],
        )
    return policy, used
