"""Authentication as route dependencies: who calls (`Caller`), with which scope, as which
tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from fastapi.security.utils import get_authorization_scheme_param

from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.audit.declare import request_audit
from registry.auth.credentials import Standing
from registry.auth.principal import Principal, Scope
from registry.auth.tokens import InvalidToken
from registry.core.errors import Forbidden, Unauthenticated
from registry.core.tenancy import Association, Member
from registry.runtime import get_runtime

SCOPE_DESCRIPTIONS = {
    Scope.RECORDS_WRITE: "Report records and upload files",
    Scope.RECORDS_READ: "Read own records",
    Scope.EXPOSURE_READ: "Ask for borrowers' exposure",
    Scope.MONITOR: "Watch borrowers, read alerts, manage the webhook",
    Scope.DISPUTES: "File and answer disputes",
    Scope.ADMIN: "The association's administration",
}

# Documented as OAuth2 client credentials, which is what the token endpoint grants, so that
# the /docs "Authorize" button and generated clients fetch a token themselves; each route
# lists the scope it needs. Requests send the token as `Authorization: Bearer`.
oauth2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token", scopes={scope.value: text for scope, text in SCOPE_DESCRIPTIONS.items()}
        )
    ),
    scheme_name="OAuth2",
    description="Access token from POST /oauth/token (client credentials), sent as `Authorization: Bearer`",
    auto_error=False,
)


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
    authorization: Annotated[str | None, Depends(oauth2)],
) -> Caller:
    scheme, token = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer" or not token:
        raise await _refuse(request, "missing bearer token")
    runtime = get_runtime(request)
    try:
        principal = runtime.tokens.verify(token)
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

    # The scheme as a Security default, not an Annotated alias: the scope is a local the string
    # annotations cannot see; it makes each route list the scope it needs in the OpenAPI document.
    async def check(
        request: Request,
        authorization: str | None = Security(oauth2, scopes=[scope.value]),
    ) -> Caller:
        return await authorized(request, authorization, scope)

    return check


async def authorized(request: Request, authorization: str | None, scope: Scope) -> Caller:
    """The authenticated caller of `request`, who must hold `scope` (what `require` checks;
    the lean routes call it directly)."""
    caller = await authenticate(request, authorization)
    if scope.value not in caller.principal.scopes:
        raise Forbidden(f"This operation needs the `{scope.value}` scope")
    return caller
