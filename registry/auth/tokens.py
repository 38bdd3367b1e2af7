"""Access tokens: EdDSA JWTs (`typ: at+jwt`) issued by this service and verified with only
the in-memory key set. Verified tokens are cached by their hash until they expire; whether
the client and member are still allowed is checked separately on every request."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import jwt

from registry.auth.principal import MemberId, Principal
from registry.config import Settings
from registry.core.keys import KeyRing, SigningKey, load_signing_keys, signing_keys_stamp

ALGORITHM = "EdDSA"
TOKEN_TYPE = "at+jwt"
MAX_TOKEN_BYTES = 4096
_CACHE_LIMIT = 50_000
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


class InvalidToken(Exception):
    """The token is not one this service issued, or no longer valid; the reason is for the audit."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class TokenService:
    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        self._settings = settings
        self._keys = keys
        self._verified: dict[bytes, Principal] = {}
        self._stamp = signing_keys_stamp(settings)
        self._checked_at = time.monotonic()

    def refresh_keys(self, force: bool = False) -> None:
        """Pick up keys added, retired or made current by `registry keys` (every process
        reads the same key directory); checked at most every `key_refresh_seconds`."""
        now = time.monotonic()
        if not force and now - self._checked_at < self._settings.key_refresh_seconds:
            return
        self._checked_at = now
        stamp = signing_keys_stamp(self._settings)
        if stamp == self._stamp:
            return
        signing_keys, current = load_signing_keys(self._settings)
        self._keys = replace(self._keys, signing_keys=signing_keys, current_kid=current)
        self._stamp = stamp
        # A retired key's tokens must stop verifying at once.
        self._verified = {k: p for k, p in self._verified.items() if p.kid in signing_keys}

    def issue(self, client_id: str, member_id: str, scopes: list[str]) -> IssuedToken:
        self.refresh_keys()
        now = int(time.time())
        ttl = self._settings.access_token_ttl_seconds
        key = self._keys.signing_key
        scope = " ".join(sorted(scopes))
        claims = {
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "sub": client_id,
            "member": member_id,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(16),
        }
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": TOKEN_TYPE})
        return IssuedToken(access_token=token, expires_in=ttl, scope=scope)

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("token too long")
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = time.time()
        self.refresh_keys()
        cached = self._verified.get(digest)
        if cached is not None:
            if cached.expires_at > now - self._settings.clock_skew_seconds:
                return cached
            del self._verified[digest]
        principal = self._verify_signature(token, now)
        if len(self._verified) >= _CACHE_LIMIT:
            self._evict(now)
        self._verified[digest] = principal
        return principal

    def _evict(self, now: float) -> None:
        expired = [k for k, p in self._verified.items() if p.expires_at <= now]
        for k in expired:
            del self._verified[k]
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()

    def _verify_signature(self, token: str, now: float) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.InvalidTokenError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidToken(f"malformed token: {exc.__class__.__name__}") from None
        # Only the configured algorithm and type; jku/x5u/x5c/jwk headers are never consulted.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        if header.get("typ") != TOKEN_TYPE:
            raise InvalidToken("wrong token type")
        kid = header.get("kid")
        key = self._keys.signing_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown key id")
        assert isinstance(kid, str)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.clock_skew_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"rejected: {exc.__class__.__name__}") from None
        member, scope, sub, jti = claims.get("member"), claims.get("scope"), claims.get("sub"), claims.get("jti")
        if not all(isinstance(v, str) for v in (member, scope, sub, jti)):
            raise InvalidToken("missing or malformed claims")
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise InvalidToken("malformed time claims")
        if exp - iat > self._settings.access_token_ttl_seconds or exp - now > self._settings.access_token_ttl_seconds + self._settings.clock_skew_seconds:
            raise InvalidToken("lifetime beyond the maximum")
        try:
            member_id = MemberId(uuid.UUID(member))
        except ValueError:
            raise InvalidToken("malformed member claim") from None
        return Principal(
            kid=kid,
            client_id=sub,
            member_id=member_id,
            scopes=frozenset(scope.split()),
            token_id=jti,
            expires_at=exp,
        )

    def current_key(self) -> SigningKey:
        self.refresh_keys()
        return self._keys.signing_key

    def key_set(self) -> dict[str, SigningKey]:
        self.refresh_keys()
        return dict(self._keys.signing_keys)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        self.refresh_keys()
        return {"keys": [k.public_jwk() for k in self._keys.signing_keys.values()]}
