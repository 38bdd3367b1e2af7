"""HTTP of the audit log (scope `admin`), and its checkpoint chain for members (scope `monitor`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from registry.audit import publishing, sealing, service
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEvent, AuditVerification, CheckpointHead
from registry.context import Admin, Monitor, audited
from registry.core.errors import Forbidden, Invalid, Unauthenticated, problem_responses
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.core.schemas import IsoDateTime

router = APIRouter(prefix="/admin", tags=["admin: audit"], responses=problem_responses(Unauthenticated, Forbidden))
member_router = APIRouter(prefix="/v1", tags=["audit"], responses=problem_responses(Unauthenticated, Forbidden))


@router.get(
    "/audit/verify",
    dependencies=[audited(AuditAction.ADMIN_AUDIT_VERIFY)],
    summary="Verify the audit log against its signed checkpoints",
    description="Recomputes every row's hash and every checkpoint's chain, and checks every signature. "
    "`changed_rows` names each row (id, action, member) whose content no longer matches the hash it got at "
    "insert, and whether it changed before or after it was sealed; `problems` says each finding in words.",
)
async def verify_audit(ctx: Admin) -> AuditVerification:
    return await sealing.verify(ctx.conn, ctx.runtime.tokens.key_set())


@router.get(
    "/audit",
    dependencies=[audited(AuditAction.ADMIN_AUDIT_READ)],
    responses=problem_responses(Invalid),
    summary="Search the audit log, newest first",
    description=(
        "Every audited action (queries, writes, admin actions, failed authentications) with who, what, "
        "when, the request id and the HTTP outcome, newest first, filtered by member, action, outcome "
        "and time. Rows are never changed or deleted; /admin/audit/verify proves it."
    ),
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
        ctx.tx,
        member_id=member_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )


@member_router.get(
    "/audit/checkpoints",
    dependencies=[audited(AuditAction.AUDIT_CHECKPOINTS_READ)],
    responses=problem_responses(Invalid),
    summary="The audit log's signed checkpoint chain, from a head you hold",
    description="Checkpoint headers in chain order from `from_checkpoint` (inclusive): each names the previous "
    "digest, its own digest and the signature over them (keys at `/.well-known/jwks.json`). Rows are never shown. "
    "Check that the head you kept from your alert feed is here unchanged and that each later checkpoint follows "
    "the one before (docs/security.md).",
)
async def checkpoint_chain(
    ctx: Monitor,
    from_checkpoint: Annotated[int, Query(ge=1, le=2**62, description="Id of the first checkpoint to list")] = 1,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[CheckpointHead]:
    return await publishing.checkpoint_chain(ctx, from_checkpoint=from_checkpoint, cursor=cursor, limit=limit)
