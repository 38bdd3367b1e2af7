"""HTTP of authentication: the token endpoint and the public key set.

Failed client authentication is throttled per (client id, client address) pair, so that a
stranger who knows a client id cannot lock the client out from elsewhere, and per address
with a cap high enough for a proxy that many members share. The client address is the
connecting peer, or what a trusted proxy says (`forwarded_allow_ips`, applied by
uvicorn's ProxyHeadersMiddleware in the app factory)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.audit.declare import audited, request_audit
from registry.auth import service
from registry.auth.schemas import JwkSet, OAuthErrorBody, TokenRequest, TokenResponse
from registry.auth.service import OAuthError
from registry.context import PublicTransaction
from registry.core.errors import PROBLEM_TYPE_PREFIX, RateLimited
from registry.core.openapi import schema_ref
from registry.ratelimit import service as ratelimit
from registry.ratelimit.service import Policy
from registry.runtime import get_runtime

router = APIRouter(tags=["auth"])

_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema_ref(TokenRequest)}},
    }
}


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    dependencies=[audited(AuditAction.AUTH_TOKEN)],
    summary="Get an access token (client credentials)",
    description=(
        "RFC 6749 client credentials grant. Authenticate with HTTP Basic (`client_secret_basic`) "
        "or with `client_id` and `client_secret` in the form (`client_secret_post`), or with a signed "
        "`client_assertion` (`private_key_jwt`, RFC 7523) for clients registered with a public key."
    ),
    openapi_extra=_FORM_SCHEMA,
    responses={
        400: {"model": OAuthErrorBody, "description": "invalid_request, invalid_scope or unsupported_grant_type"},
        401: {"model": OAuthErrorBody, "description": "invalid_client"},
        429: {
            "model": OAuthErrorBody,
            "description": "temporarily_unavailable: too many failed attempts from this address "
            "(for this client, or in all); wait `Retry-After` seconds",
            "headers": {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
                "RateLimit-Policy": {"schema": {"type": "string"}},
                "RateLimit": {"schema": {"type": "string"}},
            },
        },
    },
)
async def token(request: Request, tx: PublicTransaction) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded")
    form = service.parse_form(await request.body())
    credentials = service.client_credentials(request.headers.get("authorization"), form)
    runtime = get_runtime(request)
    request.state.throttle_keys = _throttle_keys(request, credentials.client_id)
    try:
        await ratelimit.check(runtime.db.pool, request.state.throttle_keys, runtime.clock())
    except RateLimited as exc:
        # RFC 6749 clients read `error`, not a problem type; temporarily_unavailable is the
        # standard code for "try again later" (docs/auth.md says why not slow_down).
        raise OAuthError("temporarily_unavailable", exc.detail, 429, headers=exc.headers) from None
    audiences = [runtime.settings.issuer, str(request.url.replace(query=None))]
    if runtime.settings.public_url:
        audiences.append(runtime.settings.public_url.rstrip("/") + "/oauth/token")
    issued = await service.issue_token(
        tx,
        runtime.tokens,
        credentials,
        form,
        request_audit(request),
        audiences,
        runtime.settings.client_assertion_max_lifetime_seconds,
    )
    body = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get(
    "/.well-known/jwks.json",
    response_model=JwkSet,
    summary="Public keys that sign access tokens",
    description=(
        "The JWK set (RFC 7517) that verifies the access tokens of `POST /oauth/token`: Ed25519 keys, "
        "`alg` `EdDSA`, each `kid` the key's RFC 7638 thumbprint. A token's `kid` header names its key; "
        "every key that may still have signed a live token is listed. Cache it for up to 5 minutes."
    ),
)
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(get_runtime(request).tokens.jwks(), headers={"Cache-Control": "public, max-age=300"})


def _throttle_keys(request: Request, client_id: str) -> list[tuple[Policy, str]]:
    settings = get_runtime(request).settings
    window = settings.token_failure_window_seconds
    address = request.client.host if request.client else "unknown"
    return [
        (Policy("token-failures-client", settings.token_failures_per_client, window), f"{client_id[:64]}|{address}"),
        (Policy("token-failures-address", settings.token_failures_per_address, window), address),
    ]


def _oauth_error_response(request: Request, exc: OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **exc.headers}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="registry"' if exc.basic else "Bearer"
    body = OAuthErrorBody(
        error=exc.error,
        error_description=exc.description,
        type=PROBLEM_TYPE_PREFIX + "oauth-" + exc.error.replace("_", "-"),
        title=exc.error,
        status=exc.status,
        detail=exc.description,
        request_id=request.scope.get("state", {}).get("request_id"),
    )
    return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)


def install_oauth_error_handler(app: FastAPI) -> None:
    async def handle(request: Request, exc: OAuthError) -> JSONResponse:
        runtime = get_runtime(request)
        if exc.status == 429:
            # A throttled attempt writes nothing (no audit row, no count): the failures that
            # led to the throttle were audited, and refusals stay cheap under a flood.
            return _oauth_error_response(request, exc)
        if exc.status == 401:
            keys = getattr(request.state, "throttle_keys", None) or _throttle_keys(request, exc.client_id or "")
            await ratelimit.count(runtime.db.pool, keys, runtime.clock())
        audit = request_audit(request)
        audit.actor = Actor(None, exc.client_id)
        audit.details = {"error": exc.error}
        await audit.record_refusal(
            runtime.db.pool, AuditAction.AUTH_FAILED, exc.status, service.TOKEN_RESOURCE, exc.description
        )
        return _oauth_error_response(request, exc)

    app.add_exception_handler(OAuthError, handle)  # type: ignore[arg-type]
