"""Console pages of members: search, onboarding, a member's page, suspension and clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from registry.audit.actions import AuditAction
from registry.audit.declare import audited
from registry.auth.principal import Scope
from registry.console import labels, queries
from registry.console.chart import Series, line_chart
from registry.console.deps import Console, staff
from registry.console.forms import parsed
from registry.console.security import PREFIX
from registry.members import service as members_service
from registry.members.schemas import ClientCreate, MemberCreate, MemberKind, MemberStatus, MemberUpdate
from registry.stats import service as stats_service

router = APIRouter(prefix=PREFIX, include_in_schema=False)
MEMBER_SCOPES = [s for s in Scope if s is not Scope.ADMIN]


@router.get("/members", dependencies=[audited(AuditAction.ADMIN_MEMBER_LIST)])
async def members(
    console: Annotated[Console, staff("members.read")], q: Annotated[str | None, Query(max_length=100)] = None
) -> Response:
    found = await queries.search_members(console.ctx.conn, q)
    console.ctx.audit.details = {"via": "console", "search": q or ""}
    return console.page("members.html", members=found, q=q or "", kinds=[k.value for k in MemberKind])


@router.post("/members", dependencies=[audited(AuditAction.ADMIN_MEMBER_CREATE)])
async def onboard(
    console: Annotated[Console, staff("members.write")],
    code: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=400)],
    kind: Annotated[str, Form(max_length=32)],
) -> Response:
    body = parsed(MemberCreate, {"code": code.strip().upper(), "name": name.strip(), "kind": kind})
    member = await members_service.create_member(console.ctx.tx, body, console.ctx.audit)
    return RedirectResponse(f"{PREFIX}/members/{member.code}", status_code=303)


async def _member(console: Console, code: str):  # type: ignore[no-untyped-def]
    member = await members_service.get_member_by_code(console.ctx.tx, code)
    console.ctx.audit.resource = f"member:{member.id}"
    return member


@router.get("/members/{code}", dependencies=[audited(AuditAction.ADMIN_MEMBER_READ)])
async def member_page(console: Annotated[Console, staff("members.read")], code: str) -> Response:
    member = await _member(console, code)
    clients = await members_service.list_clients(console.ctx.tx, member.id, console.ctx.audit)
    figures = await stats_service.member_stats(console.ctx.runtime.db.system_pool, member.id, console.ctx.now)
    t, _ = labels.translator(console.lang)
    chart = line_chart(
        [m.month for m in figures.monthly],
        [
            Series(
                t("member.new_delinquencies") + " / " + t("dash.records"),
                [
                    (m.new_delinquencies / figures.member.records.live) if figures.member.records.live else None
                    for m in figures.monthly
                ],
                "s1",
            )
        ],
        t("member.series"),
    )
    return console.page(
        "member.html",
        member=member,
        clients=clients,
        figures=figures,
        chart=chart,
        scopes=[s.value for s in MEMBER_SCOPES],
    )


@router.get("/members/{code}/status", dependencies=[audited(AuditAction.ADMIN_MEMBER_READ)])
async def confirm_status(
    console: Annotated[Console, staff("members.write")], code: str, to: Annotated[MemberStatus, Query()]
) -> Response:
    member = await _member(console, code)
    return console.page("member_status.html", member=member, to=to.value)


@router.post("/members/{code}/status", dependencies=[audited(AuditAction.ADMIN_MEMBER_UPDATE)])
async def set_status(
    console: Annotated[Console, staff("members.write")], code: str, status: Annotated[MemberStatus, Form()]
) -> Response:
    member = await _member(console, code)
    await members_service.update_member(console.ctx.tx, member.id, MemberUpdate(status=status), console.ctx.audit)
    return RedirectResponse(f"{PREFIX}/members/{member.code}", status_code=303)


@router.post("/members/{code}/clients", dependencies=[audited(AuditAction.ADMIN_CLIENT_CREATE)])
async def create_client(
    console: Annotated[Console, staff("members.write")],
    code: str,
    name: Annotated[str, Form(max_length=400)],
    scopes: Annotated[list[str], Form()],
) -> Response:
    member = await _member(console, code)
    body = parsed(ClientCreate, {"name": name.strip(), "scopes": scopes})
    created = await members_service.create_client(console.ctx.tx, member.id, body, console.ctx.audit)
    return console.page("client_created.html", member=member, client=created)


@router.post("/clients/{client_id}/revoke", dependencies=[audited(AuditAction.ADMIN_CLIENT_REVOKE)])
async def revoke_client(console: Annotated[Console, staff("members.write")], client_id: str) -> Response:
    client = await members_service.revoke_client(console.ctx.tx, client_id[:64], console.ctx.audit)
    member = await members_service.get_member(console.ctx.tx, client.member_id, console.ctx.audit)
    console.ctx.audit.resource = f"client:{client.client_id}"
    return RedirectResponse(f"{PREFIX}/members/{member.code}", status_code=303)
