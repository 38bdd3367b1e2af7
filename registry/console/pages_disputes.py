"""Console pages of disputes: the inbox by deadline, one dispute with its records in words,
its resolution, and filing a dispute for a borrower who came to the association."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from registry.audit.actions import AuditAction
from registry.audit.declare import audited
from registry.console import queries
from registry.console.deps import Console, staff
from registry.console.forms import parsed
from registry.console.security import PREFIX
from registry.disputes import service as disputes_service
from registry.disputes.schemas import DisputeCreate, DisputeResolve, Reason, Resolution
from registry.records.validation import format_minor

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SECONDS_PER_DAY = 86_400


@router.get("/disputes", dependencies=[audited(AuditAction.ADMIN_DISPUTE_LIST)])
async def inbox(
    console: Annotated[Console, staff("disputes.read")],
    status: Annotated[str, Query(pattern="^(open|resolved)?$", description="empty: every status")] = "open",
    member: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool = False,
) -> Response:
    ctx = console.ctx
    lines = await queries.inbox(
        ctx.conn, status=status or None, member_code=member or None, overdue=overdue, now=ctx.now
    )
    rows = [
        {
            "line": line,
            "days_left": int((line.deadline - ctx.now).total_seconds() // SECONDS_PER_DAY),
            "overdue": line.status == "open" and line.deadline <= ctx.now,
        }
        for line in lines
    ]
    ctx.audit.details = {"via": "console", "status": status or None, "overdue": overdue}
    return console.page("disputes.html", rows=rows, status_filter=status, member=member or "", overdue=overdue)


@router.get("/disputes/{dispute_id}", dependencies=[audited(AuditAction.ADMIN_DISPUTE_READ)])
async def dispute_page(console: Annotated[Console, staff("disputes.read")], dispute_id: uuid.UUID) -> Response:
    ctx = console.ctx
    dispute = await disputes_service.view(ctx, dispute_id)
    details = await queries.covered_details(ctx.conn, [c.record_id for c in dispute.covered])
    covered = []
    for c in dispute.covered:
        d = details.get(c.record_id)
        covered.append(
            {
                "record": c,
                "detail": d,
                "outstanding": format_minor(d.outstanding_minor, d.currency.strip()) if d else None,
                "overdue": format_minor(d.overdue_minor, d.currency.strip()) if d else None,
            }
        )
    days_left = int((dispute.deadline - ctx.now).total_seconds() // SECONDS_PER_DAY)
    return console.page(
        "dispute.html",
        dispute=dispute,
        covered=covered,
        days_left=days_left,
        resolutions=[r.value for r in Resolution],
    )


@router.post("/disputes/{dispute_id}/resolve", dependencies=[audited(AuditAction.ADMIN_DISPUTE_RESOLVE)])
async def resolve(
    console: Annotated[Console, staff("disputes.write")],
    dispute_id: uuid.UUID,
    resolution: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=4000)],
) -> Response:
    body = parsed(DisputeResolve, {"resolution": resolution, "note": note.strip()})
    await disputes_service.resolve(console.ctx, dispute_id, body)
    return RedirectResponse(f"{PREFIX}/disputes/{dispute_id}", status_code=303)


@router.post("/disputes", dependencies=[audited(AuditAction.ADMIN_DISPUTE_FILE)])
async def file_dispute(
    console: Annotated[Console, staff("disputes.write")],
    subject: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=32)],
    statement: Annotated[str, Form(max_length=4000)],
) -> Response:
    body = parsed(DisputeCreate, {"subject": subject, "reason": reason, "statement": statement.strip()})
    dispute = await disputes_service.file_as_association(console.ctx, body)
    return RedirectResponse(f"{PREFIX}/disputes/{dispute.id}", status_code=303)


REASONS = [r.value for r in Reason]
