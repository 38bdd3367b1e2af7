"""HTTP of uploads (`/v1/uploads`). The upload route reads the body as a stream itself (the
app exempts this prefix from the JSON body limit) and takes no request transaction: the
upload runs one transaction per chunk, and its audit row commits with the job's end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from registry.audit.actions import AuditAction
from registry.context import RecordsWrite, Uploads, WriteQuota, audited
from registry.core.errors import (
    BadRequest,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    UnsupportedMediaType,
    problem_responses,
)
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.uploads import service
from registry.uploads.lines import Interrupted
from registry.uploads.schemas import UploadErrorLine, UploadJobOut

router = APIRouter(
    prefix="/v1/uploads",
    tags=["uploads"],
    dependencies=[WriteQuota],
    responses=problem_responses(Unauthenticated, Forbidden),
)

JobPath = Annotated[uuid.UUID, Path(description="Upload job id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry-safe key: a retry with the same key answers with the first upload's job",
    ),
]

FILE_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        "application/x-ndjson": {"schema": {"type": "string", "format": "binary"}},
    },
}


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise Interrupted("the connection closed before the end of the file") from None


@router.post(
    "",
    status_code=202,
    dependencies=[audited(AuditAction.RECORDS_UPLOAD)],
    responses=problem_responses(BadRequest, Invalid, UnsupportedMediaType),
    openapi_extra={"requestBody": FILE_BODY},
    summary="Upload a whole file of records",
    description=(
        "The body is the file, streamed: `text/csv` with a header row of item fields, or `application/x-ndjson` "
        "with one item per line; `Content-Encoding: gzip` is accepted. Each line gets the outcome POST /v1/records "
        "would give it. Answers 202 with the job once the body is read (`status` `completed`, or `failed` with "
        "`error`); `Location` points at the job, its rejected lines are at `/errors`. An empty file, a bad CSV "
        "header, an unreadable gzip start or a wrong media type are refused at once and leave no job."
    ),
)
async def upload(
    request: Request, response: Response, ctx: Uploads, idempotency_key: IdempotencyKey = None
) -> UploadJobOut:
    job = await service.upload(
        ctx,
        _body(request),
        content_type=request.headers.get("content-type"),
        content_encoding=request.headers.get("content-encoding"),
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"/v1/uploads/{job.id}"
    return job


@router.get(
    "",
    dependencies=[audited(AuditAction.RECORDS_UPLOAD_READ)],
    responses=problem_responses(Invalid),
    summary="List own uploads, newest first",
)
async def list_uploads(ctx: RecordsWrite, cursor: CursorParam = None, limit: LimitParam = 50) -> Page[UploadJobOut]:
    return await service.list_jobs(ctx, cursor=cursor, limit=limit)


@router.get(
    "/{job_id}",
    dependencies=[audited(AuditAction.RECORDS_UPLOAD_READ)],
    responses=problem_responses(NotFound, Invalid),
    summary="One own upload: status, progress, counts",
)
async def get_upload(job_id: JobPath, ctx: RecordsWrite) -> UploadJobOut:
    return await service.get_job(ctx, job_id)


@router.get(
    "/{job_id}/errors",
    dependencies=[audited(AuditAction.RECORDS_UPLOAD_READ)],
    responses={
        **problem_responses(NotFound, Invalid),
        200: {
            "description": "One JSON object per rejected line, in line order",
            # References point into components (ItemError is there), not at a $defs this
            # fragment does not carry: ReDoc cannot render a dangling reference.
            "content": {
                "application/x-ndjson": {
                    "schema": UploadErrorLine.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        },
    },
    response_class=StreamingResponse,
    summary="The rejected lines of an own upload (NDJSON)",
)
async def upload_errors(job_id: JobPath, ctx: RecordsWrite) -> StreamingResponse:
    job = await service.get_job(ctx, job_id)
    ctx.audit.details = {"rejected": job.rejected}
    return StreamingResponse(
        service.error_lines(ctx.runtime.db.pool, ctx.tenancy, job.id), media_type="application/x-ndjson"
    )
