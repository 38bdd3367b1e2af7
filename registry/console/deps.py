"""The console's request context: the signed-in person (by session cookie), checked against
the page's permission and, for a change, the CSRF token and the request's origin; then the
same request context an admin API call gets, acting as the association, with the person's
email as the audit row's actor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from registry.audit.auditor import Actor
from registry.audit.declare import request_audit
from registry.auth.credentials import Standing
from registry.auth.deps import Caller
from registry.auth.principal import MemberId, Principal, Scope
from registry.console import render, sessions
from registry.console.access import allowed
from registry.console.security import CSRF_FIELD, CSRF_HEADER, same_origin, token_matches
from registry.console.sessions import COOKIE, Staffer
from registry.context import AssociationContext, opened_context
from registry.core.errors import Forbidden, ServiceUnavailable
from registry.members import repository as members_repository
from registry.runtime import get_runtime


class NotSignedIn(Exception):
    """No live session: the page answers with the sign-in form (a redirect)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class StaleForm(Forbidden):
    """A change without the session's CSRF token, or from another origin."""


@dataclass
class Console:
    """One console request: who, in which language, and the admin context to act in."""

    request: Request
    staffer: Staffer
    ctx: AssociationContext

    def page(self, template: str, *, status: int = 200, **values: Any) -> Any:
        return render.page(self.request, template, staffer=self.staffer, status=status, **values)

    @property
    def lang(self) -> str:
        return render.language(self.request)


async def association_id(request: Request) -> uuid.UUID:
    cached = getattr(request.app.state, "association_id", None)
    if cached is not None:
        return cached
    async with get_runtime(request).db.system_pool.acquire() as conn:
        association = await members_repository.find_association(conn)
    if association is None:
        raise ServiceUnavailable("The registry is not bootstrapped yet: run `registry bootstrap`")
    request.app.state.association_id = association.id
    return association.id


async def signed_in(request: Request) -> Staffer | None:
    runtime = get_runtime(request)
    staffer = await sessions.current(runtime.db.pool, request.cookies.get(COOKIE), runtime.clock(), runtime.settings)
    request.state.staffer = staffer
    return staffer


async def _check_change(request: Request, staffer: Staffer) -> None:
    if not same_origin(request):
        raise StaleForm("The request did not come from a console page")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not token_matches(staffer.csrf_token, given):
        raise StaleForm("The form's CSRF token is missing or wrong")


def staff(permission: str) -> Any:
    """A console page or action that needs `permission`."""

    async def dependency(request: Request) -> AsyncIterator[Console]:
        staffer = await signed_in(request)
        if staffer is None:
            raise NotSignedIn(request.url.path)
        member_id = await association_id(request)
        request_audit(request).actor = Actor(member_id, staffer.email)
        if not allowed(staffer.role, permission):
            raise Forbidden(f"The role {staffer.role} may not do this")
        if request.method not in ("GET", "HEAD"):
            await _check_change(request, staffer)
        principal = Principal(
            client_id=staffer.email,
            member_id=MemberId(member_id),
            scopes=frozenset({Scope.ADMIN.value}),
            token_id=f"console-session-{staffer.session_id}",
            expires_at=0,
        )
        caller = Caller(principal, Standing(active=True))
        async with opened_context(request, caller, caller.as_association()) as ctx:
            yield Console(request, staffer, ctx)

    return Depends(dependency, scope="function")
