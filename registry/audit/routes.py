"""HTTP of the audit log (scope `admin`), and its checkpoint chain for members (scope `monitor`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from registry.audit import publishing, sealing, service
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEvent, AuditVerification, CheckpointHead
from registry.context import Admin, Monitor, audited
from registry.core.errors import Forbidden, Invalid, Unauthenticated, problem_responses
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.core.schemas import IsoDateTime

NDJSON = "application/x-ndjson"

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
    response_model=Page[AuditEvent],
    responses={
        **problem_responses(Invalid),
        200: {
            "description": "A page of events; with `Accept: application/x-ndjson`, every event matching the filters "
            "(from `cursor` on, `limit` not applied) streamed as NDJSON, one event a line",
            "content": {
                NDJSON: {
                    "example": '{"id":4211,"at":"2026-11-28T09:14:03.120Z","member_id":'
                    '"1b4e28ba-2fa1-11d2-883f-0016d3cca427","member_code":"BANK001","client_id":"brc_3f9a1c2e7b6d5a40",'
                    '"action":"exposure.query","resource":"exposure","outcome":200,"request_id":"2f1c7d0a9b8e4c3d",'
                    '"details":{"subjects":1,"purpose":"loan_application"}}\n'
                }
            },
        },
    },
    summary="Search the audit log, newest first; or export it as NDJSON",
    description="Filters combine. Each event names the acting member by id and by code. As JSON, cursor pages "
    "(`next_cursor`); with `Accept: application/x-ndjson`, the whole filtered log streamed newest first, read from "
    "the database a page at a time, so an export of millions of rows holds no more than a page in memory.",
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
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    if NDJSON in (accept or "").lower():
        where = service.AuditFilter(member_id, action, outcome, since, until)
        ctx.audit.details = {"format": NDJSON}
        return StreamingResponse(service.export(ctx.runtime.db.pool, ctx.tenancy, where, cursor), media_type=NDJSON)
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
