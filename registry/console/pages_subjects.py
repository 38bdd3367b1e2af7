"""Console pages of a borrower lookup. The page computes the borrower token in the browser
(static/subjects.js, brs1 as docs/identity-hashing.md specifies it); the server receives
the token only, never the identity number or K_assoc. It answers the subject report, and a
printable copy for the borrower in Chinese or English."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from registry.audit.actions import AuditAction
from registry.audit.declare import audited
from registry.console import labels, render
from registry.console.deps import Console, staff
from registry.console.forms import parsed
from registry.console.pages_disputes import REASONS
from registry.console.security import PREFIX
from registry.subject_report import service as report_service
from registry.subject_report.schemas import SubjectReportRequest

router = APIRouter(prefix=PREFIX, include_in_schema=False)
KINDS = ("cn_resident_id", "cn_uscc", "passport")


@router.get("/subjects", dependencies=[audited(AuditAction.ADMIN_SUBJECT_REPORT)])
async def lookup(console: Annotated[Console, staff("subjects.read")]) -> Response:
    console.ctx.audit.resource = "subject-lookup"
    console.ctx.audit.details = {"via": "console", "page": "form"}
    return console.page("subjects.html", kinds=KINDS, report=None)


@router.post("/subjects", dependencies=[audited(AuditAction.ADMIN_SUBJECT_REPORT)])
async def report(
    console: Annotated[Console, staff("subjects.read")], subject: Annotated[str, Form(max_length=64)]
) -> Response:
    body = parsed(SubjectReportRequest, {"subject": subject})
    found = await report_service.report(console.ctx, body.subject)
    console.ctx.audit.details["via"] = "console"
    return console.page("subjects.html", kinds=KINDS, report=found, reasons=REASONS)


@router.post("/subjects/print", dependencies=[audited(AuditAction.ADMIN_SUBJECT_REPORT)])
async def printable(
    console: Annotated[Console, staff("subjects.read")],
    subject: Annotated[str, Form(max_length=64)],
    lang: Annotated[str, Form(max_length=2)] = "zh",
) -> Response:
    body = parsed(SubjectReportRequest, {"subject": subject})
    found = await report_service.report(console.ctx, body.subject)
    lang = lang if lang in labels.LANGUAGES else "zh"
    console.ctx.audit.details.update(via="console", format="print", lang=lang)
    t, word = labels.translator(lang)
    return render.page(
        console.request, "report_print.html", staffer=console.staffer, report=found, print_lang=lang, pt=t, pword=word
    )
