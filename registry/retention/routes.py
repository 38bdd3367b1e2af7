"""HTTP of retention (`POST /admin/retention/run`)."""

from __future__ import annotations

from fastapi import APIRouter

from registry.audit.actions import AuditAction
from registry.auth.deps import Admin
from registry.core.errors import Forbidden, Unauthenticated, problem_responses
from registry.deps import Intent, TxDep, audited
from registry.retention import service
from registry.retention.schemas import RetentionResult
from registry.runtime import RuntimeDep

router = APIRouter(prefix="/admin/retention", tags=["admin: retention"], responses=problem_responses(Unauthenticated, Forbidden))


@router.post(
    "/run",
    dependencies=[audited(AuditAction.RETENTION_RUN)],
    summary="Run a retention pass now",
    description=(
        "Deletes records whose `expires_on` has passed, with their history; inquiries and alerts older than 24 "
        "months; finished webhook deliveries older than 30 days. Answers the counts, which the audit row of this "
        "request also holds. The service runs the same pass daily."
    ),
)
async def run_retention(
    _: Admin, tx: TxDep, runtime: RuntimeDep,
    audit: Intent,
) -> RetentionResult:
    result = await service.run(tx, now=runtime.clock(), audit=audit)
    audit.details["via"] = "api"
    return result
