"""Rules of the token endpoint (RFC 6749 client credentials grant)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from registry.audit.auditor import Actor, RequestAudit
from registry.auth import assertions, repository
from registry.auth.principal import ALL_SCOPES
from registry.auth.secrets import secret_matches
from registry.auth.tokens import IssuedToken, TokenService
from registry.core.db import Tx


class OAuthError(Exception):
    """An RFC 6749 §5.2 error; `status` 401 for client authentication failures, 429 when
    throttled (`temporarily_unavailable`, with Retry-After in `headers`), else 400."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        *,
        basic: bool = False,
        client_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.basic = basic
        self.client_id = client_id
        self.headers = headers or {}


@dataclass(frozen=True)
class ClientCredentials:
    """How the client authenticates: a secret (basic or post) or a signed assertion."""

    client_id: str
    client_secret: str | None
    via_basic: bool
    assertion: str | None = None

    @property
    def method(self) -> str:
        if self.assertion is not None:
            return "private_key_jwt"
        return "client_secret_basic" if self.via_basic else "client_secret_post"


MAX_FORM_BYTES = 8192
TOKEN_RESOURCE = "POST /oauth/token"


def parse_form(body: bytes) -> dict[str, str]:
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "The request body is too large")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"Parameter `{name}` is repeated")
        if "\x00" in value or "\x00" in name:
            raise OAuthError("invalid_request", "A parameter holds a NUL character")
        form[name] = value
    return form


def client_credentials(authorization: str | None, form: dict[str, str]) -> ClientCredentials:
    """client_secret_basic, client_secret_post or private_key_jwt; exactly one (RFC 6749 §2.3)."""
    in_body = "client_secret" in form
    if "client_assertion" in form or "client_assertion_type" in form:
        if in_body or (authorization and authorization[:6].lower() == "basic "):
            raise OAuthError("invalid_request", "Use one client authentication method, not two")
        if form.get("client_assertion_type") != assertions.ASSERTION_TYPE:
            raise OAuthError("invalid_request", f"client_assertion_type must be {assertions.ASSERTION_TYPE}")
        assertion = form.get("client_assertion", "")
        claimed = assertions.unverified_client_id(assertion)
        if claimed is None or ("client_id" in form and form["client_id"] != claimed):
            raise OAuthError("invalid_client", "The client assertion does not name this client", 401)
        return ClientCredentials(claimed, None, via_basic=False, assertion=assertion)
    if authorization and authorization[:6].lower() == "basic ":
        if in_body:
            raise OAuthError("invalid_request", "Use one client authentication method, not two")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            raw_id, raw_secret = decoded.split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_client", "Malformed Basic credentials", 401, basic=True) from None
        return ClientCredentials(unquote_plus(raw_id), unquote_plus(raw_secret), via_basic=True)
    if in_body and form.get("client_id"):
        return ClientCredentials(form["client_id"], form["client_secret"], via_basic=False)
    raise OAuthError("invalid_client", "Client authentication is required", 401, basic=True)


def granted_scopes(client_scopes: list[str], requested: str | None) -> list[str]:
    if requested is None or not requested.strip():
        return sorted(client_scopes)
    wanted = set(requested.split())
    unknown = wanted - ALL_SCOPES
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(sorted(unknown))}")
    if not wanted <= set(client_scopes):
        raise OAuthError(
            "invalid_scope", "The client may not request: " + " ".join(sorted(wanted - set(client_scopes)))
        )
    return sorted(wanted)


async def _authenticate(
    tx: Tx, client: Any, credentials: ClientCredentials, audiences: list[str], now: float, max_lifetime: int
) -> None:
    fail = OAuthError(
        "invalid_client",
        "Client authentication failed",
        401,
        basic=credentials.via_basic,
        client_id=credentials.client_id if client is not None else None,
    )
    if credentials.assertion is None:
        stored_hash = client.secret_hash if client is not None else None
        if not secret_matches(credentials.client_secret or "", stored_hash) or client is None:
            raise fail
        return
    if client is None or client.public_jwk is None:
        raise fail
    try:
        jti, exp = assertions.verify(
            credentials.assertion,
            credentials.client_id,
            client.public_jwk,
            audiences,
            now=now,
            max_lifetime=max_lifetime,
        )
    except (assertions.InvalidAssertion, assertions.InvalidJwk) as exc:
        fail.description = f"Client authentication failed: {exc}"
        raise fail from None
    if not await repository.record_assertion(tx.conn, credentials.client_id, jti, exp, now):
        fail.description = "Client authentication failed: assertion already used"
        raise fail


async def issue_token(
    tx: Tx,
    tokens: TokenService,
    credentials: ClientCredentials,
    form: dict[str, str],
    audit: RequestAudit,
    audiences: list[str],
    assertion_max_lifetime: int,
) -> IssuedToken:
    """Authenticate the client and issue its token; the request's audit row (committed with
    the client's last use) names the client and the scope.
    `audiences`: what a client assertion may name as `aud` (the token endpoint URL, the issuer);
    `assertion_max_lifetime`: the longest a client assertion may still live."""
    grant = form.get("grant_type")
    if grant is None:
        raise OAuthError("invalid_request", "grant_type is required")
    client = await repository.find_client(tx.conn, credentials.client_id) if len(credentials.client_id) <= 64 else None
    await _authenticate(tx, client, credentials, audiences, tokens.now(), assertion_max_lifetime)
    if client.status != "active" or client.member_status != "active":
        raise OAuthError(
            "invalid_client",
            "The client is revoked or its member is suspended",
            401,
            basic=credentials.via_basic,
            client_id=credentials.client_id,
        )
    if grant != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only the client_credentials grant is supported")
    scopes = granted_scopes(list(client.scopes), form.get("scope"))
    await repository.touch_client(tx.conn, credentials.client_id)
    issued = tokens.issue(credentials.client_id, str(client.member_id), scopes)
    audit.actor = Actor(client.member_id, credentials.client_id)
    audit.resource = TOKEN_RESOURCE
    audit.details = {"scope": issued.scope, "method": credentials.method}
    return issued
