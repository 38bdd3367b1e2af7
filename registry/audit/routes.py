"""HTTP of the audit log (scope `admin`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from registry.audit import sealing, service
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEvent
from registry.audit.sealing import AuditVerification
from registry.context import Admin, audited
from registry.core.errors import Forbidden, Invalid, Unauthenticated, problem_responses
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.core.schemas import IsoDateTime

router = APIRouter(prefix="/admin", tags=["admin: audit"], responses=problem_responses(Unauthenticated, Forbidden))


@router.get(
    "/audit/verify",
    dependencies=[audited(AuditAction.ADMIN_AUDIT_VERIFY)],
    summary="Verify the audit log against its signed checkpoints",
    description="Recomputes every checkpoint's hash chain from the rows and checks its signature; "
    "`problems` names each checkpoint that no longer matches.",
)
async def verify_audit(ctx: Admin) -> AuditVerification:
    return await sealing.verify(ctx.conn, ctx.runtime.tokens.key_set())


@router.get(
    "/audit",
    dependencies=[audited(AuditAction.ADMIN_AUDIT_READ)],
    responses=problem_responses(Invalid),
    summary="Search the audit log, newest first",
)
async def list_audit(
    ctx: Admin,
    member_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64, examples=["auth.failed"])] = None,
    outcome: Annotated[int | None, Query(ge=100, le=599, description="HTTP status")] = None,
    since: Annotated[IsoDateTime | None, Query(description="Inclusive lower bound on `at` (RFC 3339)")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Exclusive upper bound on `at` (RFC 3339)")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[AuditEvent]:
    return await service.list_events(
        ctx.tx, member_id=member_id, action=action, outcome=outcome, since=since, until=until, cursor=cursor, limit=limit
    )
