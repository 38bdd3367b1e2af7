"""HTTP of disputes: members (`/v1/disputes`, scope `disputes`) and the association (`/admin/disputes`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from registry.audit.actions import AuditAction
from registry.context import Admin, Disputes, WriteQuota, audited
from registry.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    problem_responses,
)
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.disputes import service
from registry.disputes.schemas import (
    DisputeCreate,
    DisputeFiled,
    DisputeOut,
    DisputeResolve,
    DisputeResponse,
    DisputeStatus,
    DisputeSummary,
)
from registry.idempotency.http import IdempotencyKeyHeader
from registry.idempotency.service import idempotent

router = APIRouter(
    prefix="/v1/disputes",
    tags=["disputes"],
    dependencies=[WriteQuota],
    responses=problem_responses(Unauthenticated, Forbidden),
)
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
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[audited(AuditAction.DISPUTES_FILE)],
    responses=problem_responses(NotFound, Invalid),
    summary="File a dispute for a borrower",
    description=FILE_DESCRIPTION.format(whose=" (one of yours)")
    + (
        " You may file for a borrower you hold a live record on, or with the borrower's consent (`consent_ref`), "
        "else 403. The answer is `202` with the dispute's id whether or not any record is covered: it never tells "
        "what other lenders hold, and the dispute shows you only your own records."
    ),
)
async def file_dispute(
    body: DisputeCreate, ctx: Disputes, idempotency_key: IdempotencyKeyHeader = None
) -> DisputeFiled:
    return await idempotent(
        ctx.tx,
        ctx.idempotency(idempotency_key),
        body.model_dump(mode="json"),
        DisputeFiled,
        lambda: service.file_as_member(ctx, body),
        status_code=202,
    )


@router.get(
    "",
    dependencies=[audited(AuditAction.DISPUTES_LIST)],
    responses=problem_responses(Invalid),
    summary="Disputes you filed or that cover your records",
    description=(
        "Disputes the caller filed, and disputes that cover one of its records, oldest first. Counts and "
        "covered records are the caller's own only: a member never learns which other lenders' records a "
        "dispute covers."
    ),
)
async def list_disputes(
    ctx: Disputes,
    status: StatusFilter = None,
    overdue: OverdueFilter = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[DisputeSummary]:
    return await service.list_disputes(
        ctx, status=status.value if status else None, overdue=overdue, cursor=cursor, limit=limit
    )


@router.get(
    "/{dispute_id}",
    dependencies=[audited(AuditAction.DISPUTES_READ)],
    responses=problem_responses(NotFound, Invalid),
    summary="One dispute with its history (your records only)",
    description=(
        "One dispute the caller filed or that covers one of its records: status, deadline, the caller's "
        "covered records with their responses and outcomes, and the history. 404 for any other dispute, "
        "as for one that does not exist."
    ),
)
async def get_dispute(dispute_id: DisputePath, ctx: Disputes) -> DisputeOut:
    return await service.view(ctx, dispute_id)


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
async def respond(dispute_id: DisputePath, body: DisputeResponse, ctx: Disputes) -> DisputeOut:
    return await service.respond(ctx, dispute_id, body)


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[audited(AuditAction.ADMIN_DISPUTE_FILE)],
    responses=problem_responses(NotFound, Invalid),
    summary="File a dispute for a borrower who came to the association",
    description=FILE_DESCRIPTION.format(whose=""),
)
async def admin_file_dispute(
    body: DisputeCreate, ctx: Admin, idempotency_key: IdempotencyKeyHeader = None
) -> DisputeOut:
    return await idempotent(
        ctx.tx,
        ctx.idempotency(idempotency_key),
        body.model_dump(mode="json"),
        DisputeOut,
        lambda: service.file_as_association(ctx, body),
        status_code=201,
    )


@admin_router.get(
    "",
    dependencies=[audited(AuditAction.ADMIN_DISPUTE_LIST)],
    responses=problem_responses(Invalid),
    summary="Every dispute, oldest first",
    description=(
        "Every dispute, with how many records each covers and whether it is overdue (open past its "
        "20-day deadline), for the association's dispute officers."
    ),
)
async def admin_list_disputes(
    ctx: Admin,
    status: StatusFilter = None,
    overdue: OverdueFilter = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[DisputeSummary]:
    return await service.list_disputes(
        ctx, status=status.value if status else None, overdue=overdue, cursor=cursor, limit=limit
    )


@admin_router.get(
    "/{dispute_id}",
    dependencies=[audited(AuditAction.ADMIN_DISPUTE_READ)],
    responses=problem_responses(NotFound, Invalid),
    summary="One dispute with every record and its history",
    description=(
        "One dispute as the association sees it: who filed it, every covered record with the institution "
        "that holds it, each lender's response and proposed correction, the outcome per record, and the "
        "whole history."
    ),
)
async def admin_get_dispute(dispute_id: DisputePath, ctx: Admin) -> DisputeOut:
    return await service.view(ctx, dispute_id)


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
async def resolve_dispute(dispute_id: DisputePath, body: DisputeResolve, ctx: Admin) -> DisputeOut:
    return await service.resolve(ctx, dispute_id, body)
