"""HTTP of records (`/v1/records`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from registry.audit.actions import AuditAction
from registry.context import RecordsRead, RecordsWrite, WriteQuota, audited
from registry.core.csv_export import csv_content, csv_response, wants_csv
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
    response_model=Page[RecordOut],
    responses={
        **problem_responses(Invalid),
        **csv_content(
            "A page of records; with `Accept: text/csv` every matching record as CSV (no paging), one row per "
            "account: " + ", ".join(service.CSV_COLUMNS),
            service.CSV_COLUMNS,
            {
                "account_ref": "LN-2024-000187",
                "branch_code": "SH-PUDONG-01",
                "days_past_due": 75,
                "status": "dpd_61_90",
                "product": "consumer_loan",
                "delinquent_since": "2026-09-16",
                "last_collection_action_on": "2026-10-02",
                "collection_stage": "letter",
                "arrangement": "none",
                "currency": "CNY",
                "overdue_amount": "3200.00",
                "outstanding_amount": "41800.00",
                "recovered_amount": "800.00",
                "as_of": "2026-11-30",
                "uncollected": "true",
                "id": "0193a7f0-5c2e-7b1a-9d3e-2f4c6a8b0d1e",
            },
        ),
    },
    summary="List own live records; with uncollected=true, the collection worklist",
    description=(
        "Own live records (neither withdrawn nor expired), oldest first, cursor-paged. Filters combine. "
        "`uncollected=true` makes it the **worklist**: the accounts that count as uncollected (delinquent more than "
        "30 days on their `as_of`, no arrangement, no collection action in the 30 days up to `as_of`), most days "
        "past due first; narrow it to one branch with `branch_code` and to the oldest with `min_days`. "
        "`Accept: text/csv` streams the whole list as CSV for a branch's collection team. "
        "An unknown query parameter is a 422."
    ),
)
async def list_records(
    ctx: RecordsRead,
    subject: Annotated[str | None, Query(max_length=64, description="Only records about this borrower token")] = None,
    status: Status | None = None,
    product: Product | None = None,
    branch_code: Annotated[
        str | None,
        Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$", description="Only this branch's accounts"),
    ] = None,
    uncollected: Annotated[
        bool | None, Query(description="true: the worklist of uncollected accounts, most days past due first")
    ] = None,
    min_days: Annotated[
        int | None, Query(ge=0, le=100_000, description="Only accounts at least this many days past due on as_of")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response | Page[RecordOut]:
    filters = service.list_filters(
        ctx,
        subject=subject,
        status=status.value if status else None,
        product=product.value if product else None,
        branch_code=branch_code,
        uncollected=uncollected,
        min_days=min_days,
    )
    if wants_csv(accept):
        rows = await service.export_records(ctx, filters)
        return csv_response(service.CSV_COLUMNS, rows, "worklist.csv" if uncollected else "records.csv")
    return await service.list_records(ctx, filters, cursor=cursor, limit=limit)


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
