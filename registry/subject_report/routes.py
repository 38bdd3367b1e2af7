"""HTTP of the subject report (`POST /admin/subject-report`), as JSON, NDJSON or printable HTML."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header
from fastapi.responses import Response

from registry.audit.actions import AuditAction
from registry.context import Admin, audited
from registry.core.errors import Forbidden, Invalid, Unauthenticated, problem_responses
from registry.core.labels import language_for
from registry.subject_report import service
from registry.subject_report.render import (
    CONTENT_SECURITY_POLICY,
    HTML,
    NDJSON,
    html_page,
    media_type_for,
)
from registry.subject_report.schemas import SUBJECT_REPORT_EXAMPLE, SubjectReport, SubjectReportRequest

NDJSON_EXAMPLE = "".join(
    orjson.dumps(line).decode() + "\n" for line in SubjectReport.model_validate(SUBJECT_REPORT_EXAMPLE).lines()
)
HTML_EXAMPLE = (
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Subject report</title></head>\n'
    "<body>…</body>\n</html>\n"
)

router = APIRouter(prefix="/admin", tags=["admin: borrowers"], responses=problem_responses(Unauthenticated, Forbidden))


@router.post(
    "/subject-report",
    dependencies=[audited(AuditAction.ADMIN_SUBJECT_REPORT)],
    response_model=SubjectReport,
    responses={
        **problem_responses(Invalid),
        200: {
            "description": "The report; `Accept: application/x-ndjson` gives one line per record and inquiry after a "
            "header line, `Accept: text/html` a printable page for the borrower, in Chinese when `Accept-Language` "
            "prefers `zh` and in English otherwise, with words for every code",
            "content": {
                NDJSON: {"schema": {"type": "string"}, "example": NDJSON_EXAMPLE},
                HTML: {"schema": {"type": "string"}, "example": HTML_EXAMPLE},
            },
        },
    },
    summary="What the registry holds about one borrower (an access request)",
    description=(
        "Every record held about the borrower token, with the institution that reported it and any dispute, and "
        "every inquiry about it in the last 24 months with the institution, purpose and consent reference: what a "
        "borrower is entitled to see about themselves. JSON by default; NDJSON or a printable HTML page by `Accept`."
    ),
)
async def subject_report(
    body: SubjectReportRequest,
    ctx: Admin,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    report = await service.report(ctx, body.subject)
    media_type = media_type_for(accept)
    ctx.audit.details["format"] = media_type
    if media_type == NDJSON:
        content = b"".join(orjson.dumps(line) + b"\n" for line in report.lines())
        return Response(content, media_type=NDJSON)
    if media_type == HTML:
        language = language_for(accept_language)
        ctx.audit.details["language"] = language
        return Response(
            html_page(report, language),
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Content-Language": language,
                "Vary": "Accept, Accept-Language",
            },
        )
    return Response(orjson.dumps(report.model_dump(mode="json")), media_type="application/json")
