"""Console pages of oversight: the audit log (filters, exports, the chain's verification),
operations (retention, uploads, webhook deliveries, readiness) and staff accounts."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from registry.audit import sealing
from registry.audit.actions import AuditAction
from registry.audit.declare import audited
from registry.console import queries, service
from registry.console import staff as staff_accounts
from registry.console.deps import Console, staff
from registry.console.queries import AuditFilter, AuditLine
from registry.console.security import PREFIX
from registry.console.staff import Role
from registry.retention import service as retention_service

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MemberCode = Annotated[str | None, Query(max_length=32)]
Text = Annotated[str | None, Query(max_length=254)]
AUDIT_COLUMNS = ("id", "at", "member_code", "member_name", "actor", "action", "resource", "outcome", "request_id")


def _filter(member: str | None, actor: str | None, action: str | None, since: date | None, until: date | None):  # type: ignore[no-untyped-def]
    return AuditFilter(member or None, actor or None, action or None, since, until)


@router.get("/audit", dependencies=[audited(AuditAction.ADMIN_AUDIT_READ)])
async def audit(
    console: Annotated[Console, staff("audit.read")],
    member: MemberCode = None,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: date | None = None,
    until: date | None = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    where = _filter(member, actor, action, since, until)
    rows = await queries.audit_page(console.ctx.conn, where, before)
    more = len(rows) > queries.AUDIT_PAGE
    rows = rows[: queries.AUDIT_PAGE]
    console.ctx.audit.details = {"via": "console"}
    return console.page("audit.html", rows=rows, where=where, older=rows[-1].id if more else None, verification=None)


def _csv_line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


async def _export(lines: AsyncIterator[AuditLine], fmt: str) -> AsyncIterator[bytes]:
    if fmt == "csv":
        yield _csv_line([*AUDIT_COLUMNS, "details"]).encode()
    async for line in lines:
        record = {
            "id": line.id,
            "at": line.at.isoformat(),
            "member_code": line.member_code,
            "member_name": line.member_name,
            "actor": line.client_id,
            "action": line.action,
            "resource": line.resource,
            "outcome": line.outcome,
            "request_id": line.request_id,
        }
        if fmt == "csv":
            yield _csv_line([*record.values(), orjson.dumps(line.details).decode()]).encode()
        else:
            yield orjson.dumps({**record, "details": line.details}) + b"\n"


@router.get("/audit/export.{fmt}", dependencies=[audited(AuditAction.ADMIN_AUDIT_EXPORT)])
async def audit_export(
    console: Annotated[Console, staff("audit.read")],
    fmt: Annotated[str, Path(pattern="^(csv|ndjson)$")],
    member: MemberCode = None,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    where = _filter(member, actor, action, since, until)
    console.ctx.audit.resource = "audit"
    console.ctx.audit.details = {"via": "console", "format": fmt, **{k: str(v) for k, v in vars_of(where).items() if v}}
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        _export(queries.audit_stream(console.ctx.runtime.db.system_pool, where), fmt),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-{console.ctx.today}.{fmt}"'},
    )


def vars_of(where: AuditFilter) -> dict[str, object]:
    return {
        "member": where.member_code,
        "actor": where.actor,
        "action": where.action,
        "since": where.since,
        "until": where.until,
    }


@router.post("/audit/verify", dependencies=[audited(AuditAction.ADMIN_AUDIT_VERIFY)])
async def verify(console: Annotated[Console, staff("audit.read")]) -> Response:
    result = await sealing.verify(console.ctx.conn, console.ctx.runtime.tokens.key_set())
    rows = await queries.audit_page(console.ctx.conn, AuditFilter(), None)
    console.ctx.audit.details = {"via": "console", "ok": result.ok}
    return console.page(
        "audit.html", rows=rows[: queries.AUDIT_PAGE], where=AuditFilter(), older=None, verification=result
    )


@router.get("/operations", dependencies=[audited(AuditAction.ADMIN_OPERATIONS_READ)])
async def operations(console: Annotated[Console, staff("operations.read")]) -> Response:
    ctx = console.ctx
    overview = await service.operations(ctx.conn, ctx.runtime, console.request.app.state.head_revision)
    ctx.audit.details = {"via": "console"}
    return console.page("operations.html", ops=overview)


@router.post("/operations/retention", dependencies=[audited(AuditAction.RETENTION_RUN)])
async def run_retention(console: Annotated[Console, staff("operations.write")]) -> Response:
    ctx = console.ctx
    result = await retention_service.run(ctx.tx, now=ctx.now)
    ctx.audit.resource = retention_service.RESOURCE
    ctx.audit.details = retention_service.details(result, "console")
    return RedirectResponse(f"{PREFIX}/operations", status_code=303)


@router.get("/staff", dependencies=[audited(AuditAction.STAFF_LIST)])
async def staff_list(console: Annotated[Console, staff("staff.manage")]) -> Response:
    accounts = await staff_accounts.list_all(console.ctx.conn)
    console.ctx.audit.details = {"via": "console"}
    return console.page("staff.html", accounts=accounts, roles=[r.value for r in Role], credentials=None)


async def _shown_once(console: Console, credentials: staff_accounts.Credentials) -> Response:
    accounts = await staff_accounts.list_all(console.ctx.conn)
    return console.page("staff.html", accounts=accounts, roles=[r.value for r in Role], credentials=credentials)


@router.post("/staff", dependencies=[audited(AuditAction.STAFF_CREATE)])
async def staff_create(
    console: Annotated[Console, staff("staff.manage")],
    email: Annotated[str, Form(max_length=254)],
    role: Annotated[Role, Form()],
) -> Response:
    created = await staff_accounts.create(console.ctx.conn, console.ctx.runtime.keys.server_key, email, role)
    console.ctx.audit.resource = f"staff:{created.email}"
    console.ctx.audit.details = {"role": created.role, "via": "console"}
    return await _shown_once(console, created)


@router.post("/staff/{email}/reset", dependencies=[audited(AuditAction.STAFF_RESET)])
async def staff_reset(console: Annotated[Console, staff("staff.manage")], email: str) -> Response:
    ctx = console.ctx
    reset = await staff_accounts.reset(ctx.conn, ctx.runtime.keys.server_key, email, ctx.now)
    ctx.audit.resource = f"staff:{reset.email}"
    ctx.audit.details = {"via": "console"}
    return await _shown_once(console, reset)


@router.post("/staff/{email}/disable", dependencies=[audited(AuditAction.STAFF_DISABLE)])
async def staff_disable(console: Annotated[Console, staff("staff.manage")], email: str) -> Response:
    ctx = console.ctx
    disabled = await staff_accounts.disable(ctx.conn, email, ctx.now)
    ctx.audit.resource = f"staff:{disabled.email}"
    ctx.audit.details = {"via": "console"}
    return RedirectResponse(f"{PREFIX}/staff", status_code=303)
