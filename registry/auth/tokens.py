"""Access tokens: EdDSA JWTs (`typ: at+jwt`) issued by this service and verified with only
the in-memory key set. Verified tokens are cached by their hash, each until its own `exp`
(plus the allowed skew); whether the client and member are still allowed is checked
separately on every request.

Every time check reads the service's token clock (`TokenService.clock`, the wall clock
unless a test injects another), never PyJWT's own reading of the wall clock."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import jwt
from cachetools import TLRUCache

from registry.auth.principal import MemberId, Principal
from registry.config import Settings
from registry.core.keys import KeyRing, SigningKey, load_signing_keys, signing_keys_stamp

ALGORITHM = "EdDSA"
TOKEN_TYPE = "at+jwt"
MAX_TOKEN_BYTES = 4096
# Past this many live entries the least recently used one is dropped (and verified again if it returns).
VERIFIED_CACHE_SIZE = 50_000
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
# PyJWT would check these against its own reading of the wall clock; check_time_claims does it against ours.
NO_PYJWT_TIME_CHECKS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}


class InvalidToken(Exception):
    """The token is not one this service issued, or no longer valid; the reason is for the audit."""


def check_time_claims(claims: dict[str, Any], now: float, leeway: float) -> None:
    """`exp`, `nbf` and `iat` against `now`, as PyJWT checks them against the wall clock
    (the same exceptions and the same boundaries)."""
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise jwt.DecodeError(f"The {name} claim must be a number")
    if "exp" in claims and claims["exp"] <= now - leeway:
        raise jwt.ExpiredSignatureError("Signature has expired")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")
    if "iat" in claims and claims["iat"] > now + leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (iat)")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class TokenService:
    def __init__(self, settings: Settings, keys: KeyRing, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._keys = keys
        self.clock = clock  # seconds since the epoch; replaceable, e.g. by a test that needs time to pass
        self._verified: TLRUCache[bytes, Principal] = TLRUCache(
            VERIFIED_CACHE_SIZE, ttu=self._usable_until, timer=lambda: self.clock()
        )
        self._stamp = signing_keys_stamp(settings)
        self._checked_at = time.monotonic()

    def now(self) -> float:
        return self.clock()

    def _usable_until(self, _digest: bytes, principal: Principal, _now: float) -> float:
        """A cached token is served until `exp` plus the skew, exactly as long as it would verify."""
        return principal.expires_at + self._settings.clock_skew_seconds

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
        with self._verified.timer:  # one moment for the whole pass: no entry expires half-way
            retired = [digest for digest, p in self._verified.items() if p.kid not in signing_keys]
            for digest in retired:
                del self._verified[digest]

    def issue(self, client_id: str, member_id: str, scopes: list[str]) -> IssuedToken:
        self.refresh_keys()
        now = int(self.clock())
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
        self.refresh_keys()
        cached = self._verified.get(digest)  # None once the entry's time is up (_usable_until)
        if cached is not None:
            return cached
        principal = self._verify_signature(token, self.clock())
        self._verified[digest] = principal
        return principal

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
                options={"require": REQUIRED_CLAIMS, **NO_PYJWT_TIME_CHECKS},
            )
            check_time_claims(claims, now, self._settings.clock_skew_seconds)
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"rejected: {exc.__class__.__name__}") from None
        member, scope, sub, jti = claims.get("member"), claims.get("scope"), claims.get("sub"), claims.get("jti")
        if not all(isinstance(v, str) for v in (member, scope, sub, jti)):
            raise InvalidToken("missing or malformed claims")
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise InvalidToken("malformed time claims")
        if (
            exp - iat > self._settings.access_token_ttl_seconds
            or exp - now > self._settings.access_token_ttl_seconds + self._settings.clock_skew_seconds
        ):
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
