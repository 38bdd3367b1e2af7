"""Rendering console pages: one Jinja2 environment (autoescaped), the words of the page's
language, the navigation the role may use, and the nonce the page's scripts carry."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from registry.console import labels
from registry.console.access import NAVIGATION, allowed
from registry.console.sessions import Staffer

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "registry_console_lang"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def when(value: datetime | date | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value.replace("T", " ")[:16]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def amount(value: str | Decimal | None, currency: str | None = None) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(str(value)):,.2f}"
    return f"{text} {currency}" if currency else text


_env.filters.update(percent=percent, when=when, amount=amount, urlquote=lambda v: quote(str(v), safe=""))


def language(request: Request) -> str:
    return labels.choose(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))


def page(
    request: Request,
    template: str,
    *,
    staffer: Staffer | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    lang = language(request)
    t, word = labels.translator(lang)
    nav = [
        {"path": path, "label": t(key), "current": request.url.path == path}
        for permission, path, key in NAVIGATION
        if staffer is not None and allowed(staffer.role, permission)
    ]
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = _env.get_template(template).render(
        request=request,
        lang=lang,
        t=t,
        word=word,
        staffer=staffer,
        can=lambda permission: staffer is not None and allowed(staffer.role, permission),
        nav=nav,
        nonce=getattr(request.state, "csp_nonce", ""),
        csrf_token=staffer.csrf_token if staffer else "",
        here=here,
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=headers)
