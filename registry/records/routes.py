"""HTTP of records (`/v1/records`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from registry.audit.actions import AuditAction
from registry.context import RecordsRead, RecordsWrite, WriteQuota, audited
from registry.core.errors import (
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    problem_responses,
)
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.idempotency.http import IdempotencyKeyHeader
from registry.records import service
from registry.records.schemas import BatchResult, RecordBatch, RecordDetail, RecordOut
from registry.records.vocabulary import Product, Status

router = APIRouter(
    prefix="/v1/records",
    tags=["records"],
    dependencies=[WriteQuota],
    responses=problem_responses(Unauthenticated, Forbidden),
)

RecordPath = Annotated[uuid.UUID, Path(description="Record id")]


@router.post(
    "",
    dependencies=[audited(AuditAction.RECORDS_SUBMIT)],
    responses=problem_responses(Invalid, PayloadTooLarge),
    summary="Report a batch of up to 1000 records",
    description=(
        "Upsert by `account_ref`. Each item is validated and applied on its own: the answer gives, in request "
        "order, `created`, `updated`, `unchanged`, `stale` (older `as_of` than stored: ignored) or `rejected` with "
        "reasons. A structurally bad body (duplicate `account_ref`, more than 1000 items) is a 422 and writes nothing."
    ),
)
async def submit_records(
    batch: RecordBatch, ctx: RecordsWrite, idempotency_key: IdempotencyKeyHeader = None
) -> BatchResult:
    return await service.submit(ctx, batch.records, idempotency_key)


@router.get(
    "",
    dependencies=[audited(AuditAction.RECORDS_LIST)],
    responses=problem_responses(Invalid),
    summary="List own live records",
    description=(
        "The caller's own records that are not withdrawn, oldest first, filtered by borrower token, "
        "status or product. Another member's records are never listed."
    ),
)
async def list_records(
    ctx: RecordsRead,
    subject: Annotated[str | None, Query(max_length=64, description="Only records about this borrower token")] = None,
    status: Status | None = None,
    product: Product | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[RecordOut]:
    return await service.list_records(
        ctx,
        subject=subject,
        status=status.value if status else None,
        product=product.value if product else None,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/{record_id}",
    dependencies=[audited(AuditAction.RECORDS_READ)],
    responses=problem_responses(NotFound, Invalid),
    summary="One own record with its history",
    description=(
        "One of the caller's own records, with every accepted change (`events`) in order. Another "
        "member's record answers 404, as one that does not exist."
    ),
)
async def get_record(record_id: RecordPath, ctx: RecordsRead) -> RecordDetail:
    return await service.get_record(ctx, record_id)


@router.delete(
    "/{record_id}",
    dependencies=[audited(AuditAction.RECORDS_WITHDRAW)],
    responses=problem_responses(NotFound, Invalid),
    summary="Withdraw an own record",
    description=(
        "Withdraws the record: it leaves every exposure answer at once, and the caller's watches on its "
        "borrower that no other record of the caller keeps end with it. Withdrawing again answers the "
        "same record; another member's record is 404."
    ),
)
async def withdraw_record(record_id: RecordPath, ctx: RecordsWrite) -> RecordOut:
    return await service.withdraw(ctx, record_id)
