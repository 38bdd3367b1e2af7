"""HTTP of retention (`POST /admin/retention/run`)."""

from __future__ import annotations

from fastapi import APIRouter

from registry.audit.actions import AuditAction
from registry.context import Admin, audited
from registry.core.errors import Forbidden, Unauthenticated, problem_responses
from registry.retention import service
from registry.retention.schemas import RetentionResult

router = APIRouter(
    prefix="/admin/retention", tags=["admin: retention"], responses=problem_responses(Unauthenticated, Forbidden)
)


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
async def run_retention(ctx: Admin) -> RetentionResult:
    result = await service.run(ctx.tx, now=ctx.now)
    ctx.audit.resource = service.RESOURCE
    ctx.audit.details = service.details(result, "api")
    return result
