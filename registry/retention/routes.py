"""HTTP of retention (`POST /admin/retention/run`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditIntent
from registry.auth.deps import Admin
from registry.core.errors import Forbidden, Unauthenticated, problem_responses
from registry.deps import TxDep, audit_intent, audited
from registry.retention import service
from registry.retention.schemas import RetentionResult
from registry.runtime import Runtime, runtime_dependency

router = APIRouter(prefix="/admin/retention", tags=["admin: retention"], responses=problem_responses(Unauthenticated, Forbidden))


@router.post(
    "/run",
    dependencies=[audited(AuditAction.RETENTION_RUN)],
    summary="Run a retention pass now",
    description=(
        "Deletes records whose `expires_on` has passed, with their history, and inquiries older than 24 months; "
        "answers the counts, which the audit row of this request also holds. The service runs the same pass daily."
    ),
)
async def run_retention(
    _: Admin, tx: TxDep, runtime: Annotated[Runtime, Depends(runtime_dependency)],
    audit: Annotated[AuditIntent, Depends(audit_intent)],
) -> RetentionResult:
    result = await service.run(tx, now=runtime.clock(), audit=audit)
    audit.details["via"] = "api"
    return result
