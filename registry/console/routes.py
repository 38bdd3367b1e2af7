"""HTTP of the console: signing in and out, the language switch, the dashboard, and how the
console answers errors (pages, not problem documents). The other pages are in pages_*.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.audit.declare import audited, request_audit
from registry.console import labels, render, service, sessions, signin
from registry.console.access import allowed, home
from registry.console.chart import Series, line_chart
from registry.console.deps import Console, NotSignedIn, StaleForm, association_id
from registry.console.deps import staff as staff_page
from registry.console.security import PREFIX, ConsoleHeadersMiddleware, same_origin
from registry.console.sessions import COOKIE, COOKIE_PATH
from registry.core.errors import Problem
from registry.runtime import get_runtime

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STATIC = render.TEMPLATES.parent / "static"


def _safe_next(value: str | None) -> str:
    """Only a console path: never another host (`//host`), never a scheme."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


@router.get("/login")
async def login_form(request: Request, next: str | None = None, signed_out: bool = False) -> Response:
    t, _ = labels.translator(render.language(request))
    message = t("login.signed_out") if signed_out else None
    return render.page(request, "login.html", next=_safe_next(next), message=message, email="")


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    otp: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=512)] = PREFIX + "/",
) -> Response:
    runtime = get_runtime(request)
    settings = runtime.settings
    t, _ = labels.translator(render.language(request))
    account = email.strip().lower()
    address = request.client.host if request.client else "unknown"
    audit = request_audit(request)
    audit.actor = Actor(await association_id(request), account or None)
    audit.resource = f"staff:{account}"
    audit.details = {"address": address}

    def again(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return render.page(
            request, "login.html", status=status, next=_safe_next(next), message=message, email=email, headers=headers
        )

    if not same_origin(request):
        audit.action = AuditAction.CONSOLE_LOGIN_FAILED
        audit.details["reason"] = "cross-origin form"
        await audit.record(runtime.db.pool, 403)
        return again(403, t("error.403.csrf"))
    result = await signin.attempt(runtime, audit, email=email, password=password, code=otp, address=address)
    if result.outcome is signin.Outcome.throttled:
        return again(429, t("login.throttled"), {"Retry-After": str(settings.console_failure_window_seconds)})
    if result.outcome is signin.Outcome.refused or result.session_token is None or result.role is None:
        return again(401, t("login.failed"))
    target = _safe_next(next)
    if target == PREFIX + "/" and not allowed(result.role, "dashboard"):
        target = home(result.role)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        result.session_token,
        httponly=True,
        samesite="strict",
        path=COOKIE_PATH,
        secure=sessions.cookie_secure(request.url.scheme, settings),
    )
    return response


@router.post("/logout", dependencies=[audited(AuditAction.CONSOLE_LOGOUT)])
async def logout(console: Annotated[Console, staff_page("any")]) -> Response:
    await sessions.end(console.ctx.conn, console.staffer, console.ctx.now)
    console.ctx.audit.resource = f"staff:{console.staffer.email}"
    response = RedirectResponse(PREFIX + "/login?signed_out=true", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/lang/{lang}")
async def switch_language(lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in labels.LANGUAGES:
        response.set_cookie(render.LANG_COOKIE, lang, path=COOKIE_PATH, samesite="strict", max_age=365 * 86400)
    return response


@router.get("/", dependencies=[audited(AuditAction.ADMIN_STATS_READ)])
async def dashboard(console: Annotated[Console, staff_page("dashboard")]) -> Response:
    ctx = console.ctx
    stats = await service.industry(ctx.runtime.db.system_pool, ctx.now)
    series = await service.industry_series(ctx.conn, ctx.now)
    t, _ = labels.translator(console.lang)
    chart = line_chart(
        [p.month for p in series],
        [
            Series(t("chart.delinquency"), [p.delinquency_rate for p in series], "s1"),
            Series(t("chart.uncollected"), [p.uncollected_rate for p in series], "s2"),
        ],
        t("dash.chart"),
    )
    ctx.audit.resource = "stats"
    ctx.audit.details = {"via": "console"}
    return console.page(
        "dashboard.html",
        stats=stats,
        league=await service.league(ctx.runtime.db.system_pool, ctx.now, stats),
        chart=chart,
        series=series,
    )


@router.get("/league.csv", dependencies=[audited(AuditAction.ADMIN_STATS_READ)])
async def league_csv(console: Annotated[Console, staff_page("dashboard")]) -> Response:
    stats = await service.industry(console.ctx.runtime.db.system_pool, console.ctx.now)
    console.ctx.audit.resource = "stats"
    console.ctx.audit.details = {"via": "console", "format": "csv"}
    return Response(
        service.league_csv(await service.league(console.ctx.runtime.db.system_pool, console.ctx.now, stats)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="league-{console.ctx.today}.csv"'},
    )


def _error_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    t, _ = labels.translator(render.language(request))
    if status == 403:
        message = t("error.403.csrf") if detail.startswith(("The form", "The request did not")) else t("error.403")
    else:
        message = t(f"error.{status}") if f"error.{status}" in labels.WORDS else ""
    return render.page(
        request,
        "error.html",
        staffer=getattr(request.state, "staffer", None),
        status=status,
        headers={k: v for k, v in (headers or {}).items() if k.lower() == "retry-after"},
        code=status,
        message=message,
        detail=detail,
    )


def install(app: FastAPI) -> None:
    """Mount the console: its pages, its static files, its headers, and its error pages."""
    from registry.console import pages_audit, pages_disputes, pages_members, pages_subjects

    app.add_middleware(ConsoleHeadersMiddleware)
    for module_router in (
        router,
        pages_members.router,
        pages_disputes.router,
        pages_subjects.router,
        pages_audit.router,
    ):
        app.include_router(module_router)
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC), name="console-static")

    def console_aware(original):  # type: ignore[no-untyped-def]
        async def handler(request: Request, exc: Exception) -> Response:
            response = await original(request, exc)
            if not request.url.path.startswith(PREFIX):
                return response
            detail = getattr(exc, "detail", "")
            if isinstance(exc, RequestValidationError):
                detail = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            return _error_page(request, response.status_code, str(detail), dict(response.headers))

        return handler

    for kind in (Problem, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, console_aware(app.exception_handlers[kind]))

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotSignedIn)
        target = exc.path if request.method == "GET" else PREFIX + "/"
        return RedirectResponse(f"{PREFIX}/login?next={target}", status_code=303)

    app.add_exception_handler(NotSignedIn, to_login)


__all__ = ["StaleForm", "install", "router"]
