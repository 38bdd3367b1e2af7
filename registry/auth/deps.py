"""The auth dependency and the scope aliases routes declare (`Admin`, `RecordsWrite`, ...)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.audit import repository as audit_repository
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEntry
from registry.auth.credentials import CredentialStatus
from registry.auth.principal import Principal, Scope
from registry.auth.tokens import InvalidToken, TokenService
from registry.core.errors import Forbidden, Unauthenticated
from registry.ratelimit import service as ratelimit
from registry.ratelimit.service import Policy
from registry.runtime import get_runtime

bearer = HTTPBearer(auto_error=False, description="Access token from POST /oauth/token")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
QUOTA_WRITE_PREFIX = "/v1/"
# Paths that count their own quota (exposure counts subjects, inside its one statement).
OWN_QUOTA_PATHS = frozenset({"/v1/exposure"})


async def _refuse(request: Request, reason: str) -> Unauthenticated:
    runtime = get_runtime(request)
    intent = getattr(request.state, "audit", None)
    if intent is not None:
        intent.written = True  # the failure is audited here, as auth.failed
    await audit_repository.append(
        runtime.db.pool,
        AuditEntry(
            action=AuditAction.AUTH_FAILED,
            outcome=401,
            resource=f"{request.method} {request.url.path}",
            request_id=request.scope.get("state", {}).get("request_id"),
            details={"reason": reason},
        ),
    )
    return Unauthenticated()


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise await _refuse(request, "missing bearer token")
    runtime = get_runtime(request)
    tokens: TokenService = runtime.tokens  # type: ignore[assignment]
    status: CredentialStatus = runtime.credentials  # type: ignore[assignment]
    try:
        principal = tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise await _refuse(request, str(exc)) from None
    standing = await status.standing(principal.client_id, str(principal.member_id))
    if not standing.active:
        raise await _refuse(request, "client revoked or member suspended")
    request.state.principal = principal
    request.state.standing = standing
    if request.method not in READ_METHODS and request.url.path.startswith(QUOTA_WRITE_PREFIX) \
            and request.url.path not in OWN_QUOTA_PATHS:
        settings = runtime.settings
        policy = Policy("writes", standing.writes_per_second or settings.default_writes_per_second, 1)
        await ratelimit.consume(runtime.db.pool, policy, str(principal.member_id), runtime.clock())
    return principal


def require(scope: Scope) -> Any:
    async def check(request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope.value not in principal.scopes:
            raise Forbidden(f"This operation needs the `{scope.value}` scope")
        return principal

    return check


Authenticated = Annotated[Principal, Depends(authenticate)]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
RecordsWrite = Annotated[Principal, Depends(require(Scope.RECORDS_WRITE))]
RecordsRead = Annotated[Principal, Depends(require(Scope.RECORDS_READ))]
ExposureRead = Annotated[Principal, Depends(require(Scope.EXPOSURE_READ))]
Monitor = Annotated[Principal, Depends(require(Scope.MONITOR))]
Disputes = Annotated[Principal, Depends(require(Scope.DISPUTES))]
