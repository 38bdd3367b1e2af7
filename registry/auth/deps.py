"""Authentication as route dependencies: who calls (`Caller`), with which scope, as which
tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.audit.declare import request_audit
from registry.auth.credentials import Standing
from registry.auth.principal import Principal, Scope
from registry.auth.tokens import InvalidToken
from registry.core.errors import Forbidden, Unauthenticated
from registry.core.tenancy import Association, Member
from registry.runtime import get_runtime

bearer = HTTPBearer(auto_error=False, description="Access token from POST /oauth/token")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: the verified token and the client's standing (quotas)."""

    principal: Principal
    standing: Standing

    def as_member(self) -> Member:
        return Member(self.principal.member_id)

    def as_association(self) -> Association:
        if Scope.ADMIN.value not in self.principal.scopes:
            raise Forbidden("This operation needs the `admin` scope")
        return Association(self.principal.member_id)


async def _refuse(request: Request, reason: str) -> Unauthenticated:
    await request_audit(request).record_refusal(
        get_runtime(request).db.pool, AuditAction.AUTH_FAILED, 401, f"{request.method} {request.url.path}", reason
    )
    return Unauthenticated()


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise await _refuse(request, "missing bearer token")
    runtime = get_runtime(request)
    try:
        principal = runtime.tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise await _refuse(request, str(exc)) from None
    standing = await runtime.credentials.standing(principal.client_id, str(principal.member_id))
    if not standing.active:
        raise await _refuse(request, "client revoked or member suspended")
    request_audit(request).actor = Actor(principal.member_id, principal.client_id)
    return Caller(principal, standing)


def require(scope: Scope) -> Any:
    """The authenticated caller, who must hold `scope`: one dependency (authentication is
    called, not depended on), since each level of FastAPI's dependency solving costs a
    request more CPU than the check itself."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = await authenticate(request, credentials)
        if scope.value not in caller.principal.scopes:
            raise Forbidden(f"This operation needs the `{scope.value}` scope")
        return caller

    return check
