"""HTTP of disputes: members (`/v1/disputes`, scope `disputes`) and the association (`/admin/disputes`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from registry.audit.actions import AuditAction
from registry.auth.deps import Admin, Disputes
from registry.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    problem_responses,
)
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.deps import Intent, TxDep, audited
from registry.disputes import service
from registry.disputes.schemas import (
    DisputeCreate,
    DisputeOut,
    DisputeResolve,
    DisputeResponse,
    DisputeStatus,
    DisputeSummary,
)
from registry.idempotency.http import IdempotencyKeyHeader
from registry.idempotency.service import idempotent
from registry.runtime import RuntimeDep

router = APIRouter(prefix="/v1/disputes", tags=["disputes"], responses=problem_responses(Unauthenticated, Forbidden))
admin_router = APIRouter(
    prefix="/admin/disputes", tags=["admin: disputes"], responses=problem_responses(Unauthenticated, Forbidden)
)

DisputePath = Annotated[uuid.UUID, Path(description="Dispute id")]
StatusFilter = Annotated[DisputeStatus | None, Query(description="Only open or only resolved disputes")]
OverdueFilter = Annotated[bool | None, Query(description="Only disputes open past their deadline (true) or the others")]

FILE_DESCRIPTION = (
    "With `record_id` the dispute covers that record{whose}; without it, every live negative record about the "
    "subject, whoever holds it. Every covered record shows `disputed: true` at once, in exposure answers and to "
    "its owner; the association must resolve within 20 days (`deadline`), after which the covered records are "
    "left out of exposure answers until it does."
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[audited(AuditAction.DISPUTES_FILE)],
    responses=problem_responses(NotFound, Invalid),
    summary="File a dispute for a borrower",
    description=FILE_DESCRIPTION.format(whose=" (one of yours)"),
)
async def file_dispute(
    body: DisputeCreate, principal: Disputes, tx: TxDep, runtime: RuntimeDep, audit: Intent,
    idempotency_key: IdempotencyKeyHeader = None,
) -> DisputeOut:
    return await idempotent(
        tx, principal.member_id, "POST /v1/disputes", idempotency_key, body.model_dump(mode="json"), DisputeOut,
        lambda: service.file(
            tx, principal, body, server_key=runtime.keys.server_key, now=runtime.clock(), as_admin=False, audit=audit
        ),
        status_code=201,
    )


@router.get("", dependencies=[audited(AuditAction.DISPUTES_LIST)], responses=problem_responses(Invalid),
            summary="Disputes you filed or that cover your records")
async def list_disputes(
    principal: Disputes, tx: TxDep, runtime: RuntimeDep, status: StatusFilter = None, overdue: OverdueFilter = None,
    cursor: CursorParam = None, limit: LimitParam = 100,
) -> Page[DisputeSummary]:
    return await service.list_disputes(
        tx, principal, as_admin=False, status=status.value if status else None, overdue=overdue,
        cursor=cursor, limit=limit, now=runtime.clock(),
    )


@router.get("/{dispute_id}", dependencies=[audited(AuditAction.DISPUTES_READ)],
            responses=problem_responses(NotFound, Invalid),
            summary="One dispute with its history (your records only)")
async def get_dispute(dispute_id: DisputePath, principal: Disputes, tx: TxDep, runtime: RuntimeDep, audit: Intent) -> DisputeOut:
    return await service.view(tx, principal, dispute_id, now=runtime.clock(), as_admin=False, audit=audit)


@router.post(
    "/{dispute_id}/response",
    dependencies=[audited(AuditAction.DISPUTES_RESPOND)],
    responses=problem_responses(NotFound, Conflict, Invalid),
    summary="Answer for one of your records covered by a dispute",
    description=(
        "`confirm` the record as reported, or `correct` it with the record as it should read; the correction is "
        "applied only if the association upholds the dispute. A later answer replaces an earlier one until then."
    ),
)
async def respond(
    dispute_id: DisputePath, body: DisputeResponse, principal: Disputes, tx: TxDep, runtime: RuntimeDep, audit: Intent
) -> DisputeOut:
    return await service.respond(
        tx, principal, dispute_id, body, server_key=runtime.keys.server_key, now=runtime.clock(), audit=audit
    )


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[audited(AuditAction.ADMIN_DISPUTE_FILE)],
    responses=problem_responses(NotFound, Invalid),
    summary="File a dispute for a borrower who came to the association",
    description=FILE_DESCRIPTION.format(whose=""),
)
async def admin_file_dispute(
    body: DisputeCreate, principal: Admin, tx: TxDep, runtime: RuntimeDep, audit: Intent,
    idempotency_key: IdempotencyKeyHeader = None,
) -> DisputeOut:
    return await idempotent(
        tx, principal.member_id, "POST /admin/disputes", idempotency_key, body.model_dump(mode="json"), DisputeOut,
        lambda: service.file(
            tx, principal, body, server_key=runtime.keys.server_key, now=runtime.clock(), as_admin=True, audit=audit
        ),
        status_code=201,
    )


@admin_router.get("", dependencies=[audited(AuditAction.ADMIN_DISPUTE_LIST)], responses=problem_responses(Invalid),
                  summary="Every dispute, oldest first")
async def admin_list_disputes(
    principal: Admin, tx: TxDep, runtime: RuntimeDep, status: StatusFilter = None, overdue: OverdueFilter = None,
    cursor: CursorParam = None, limit: LimitParam = 100,
) -> Page[DisputeSummary]:
    return await service.list_disputes(
        tx, principal, as_admin=True, status=status.value if status else None, overdue=overdue,
        cursor=cursor, limit=limit, now=runtime.clock(),
    )


@admin_router.get("/{dispute_id}", dependencies=[audited(AuditAction.ADMIN_DISPUTE_READ)],
                  responses=problem_responses(NotFound, Invalid), summary="One dispute with every record and its history")
async def admin_get_dispute(dispute_id: DisputePath, principal: Admin, tx: TxDep, runtime: RuntimeDep, audit: Intent) -> DisputeOut:
    return await service.view(tx, principal, dispute_id, now=runtime.clock(), as_admin=True, audit=audit)


@admin_router.patch(
    "/{dispute_id}",
    dependencies=[audited(AuditAction.ADMIN_DISPUTE_RESOLVE)],
    responses=problem_responses(NotFound, Conflict, Invalid),
    summary="Resolve a dispute",
    description=(
        "`upheld`: each covered record is corrected as its owner proposed, or else suppressed for good. "
        "`rejected`: the flag is cleared; the borrower's statement stays with the record. `unverifiable`: the "
        "record stays and keeps `disputed: true`, with the owner's check and the borrower's objection both on file."
    ),
)
async def resolve_dispute(
    dispute_id: DisputePath, body: DisputeResolve, principal: Admin, tx: TxDep, runtime: RuntimeDep, audit: Intent
) -> DisputeOut:
    return await service.resolve(
        tx, principal, dispute_id, body, server_key=runtime.keys.server_key, now=runtime.clock(), audit=audit
    )
