"""private_key_jwt client authentication (RFC 7523 §2.2, RFC 7521): a client registered
with a public JWK proves itself with a JWT it signs; each assertion is usable once. Public
keys are Ed25519 (OKP) or P-256 (EC); private members of a JWK are refused.

How long an assertion may live is a setting (`client_assertion_max_lifetime_seconds`, an
hour by default): common OAuth clients (authlib among them) sign assertions that live an
hour, and refusing them would make every integrator change a default. Replay stays
impossible because each `jti` is kept until its assertion's `exp` (repository.record_assertion)."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from registry.auth.tokens import NO_PYJWT_TIME_CHECKS, check_time_claims

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LEEWAY = 30  # seconds of clock difference allowed between a client and the registry
MAX_ASSERTION_BYTES = 4096
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


class InvalidJwk(ValueError):
    """The JWK is not an acceptable public signing key."""


class InvalidAssertion(Exception):
    """The client assertion does not authenticate the client; the reason is for the audit."""


def public_key_of(jwk: dict[str, Any]) -> tuple[Ed25519PublicKey | EllipticCurvePublicKey, str]:
    """The key and the one algorithm it may sign with."""
    if not isinstance(jwk, dict):
        raise InvalidJwk("the JWK must be a JSON object")
    if PRIVATE_MEMBERS & jwk.keys():
        raise InvalidJwk("the JWK holds private key material; register the public key only")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            key = OKPAlgorithm.from_jwk(jwk)
            algorithm = "EdDSA"
        elif kty == "EC" and crv == "P-256":
            key = ECAlgorithm.from_jwk(jwk)
            algorithm = "ES256"
        else:
            raise InvalidJwk("only Ed25519 (kty OKP) and P-256 (kty EC) keys are accepted")
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, InvalidJwk):
            raise
        raise InvalidJwk(f"malformed JWK: {exc}") from None
    if not isinstance(key, Ed25519PublicKey | EllipticCurvePublicKey):
        raise InvalidJwk("the JWK must be a public key")
    return key, algorithm


def unverified_client_id(assertion: str) -> str | None:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except (jwt.InvalidTokenError, UnicodeDecodeError, ValueError):
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and len(sub) <= 64 else None


def verify(
    assertion: str, client_id: str, jwk: dict[str, Any], audiences: list[str], *, now: float, max_lifetime: int
) -> tuple[str, int]:
    """Check the assertion at `now`; returns (jti, exp) for the replay record."""
    if len(assertion) > MAX_ASSERTION_BYTES:
        raise InvalidAssertion("assertion too long")
    key, algorithm = public_key_of(jwk)
    try:
        header = jwt.get_unverified_header(assertion)
        if header.get("alg") != algorithm:
            raise InvalidAssertion("algorithm does not match the registered key")
        claims = jwt.decode(
            assertion,
            key,
            algorithms=[algorithm],
            audience=audiences,
            issuer=client_id,
            options={"require": ["iss", "sub", "aud", "exp", "jti"], **NO_PYJWT_TIME_CHECKS},
        )
        check_time_claims(claims, now, LEEWAY)
    except jwt.InvalidTokenError as exc:
        raise InvalidAssertion(f"rejected: {exc.__class__.__name__}") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidAssertion("malformed assertion") from None
    if claims.get("sub") != client_id:
        raise InvalidAssertion("sub must equal the client id")
    exp, jti = claims["exp"], claims["jti"]
    if not isinstance(exp, int) or exp - now > max_lifetime + LEEWAY:
        raise InvalidAssertion(f"assertion lifetime beyond the maximum of {max_lifetime} s")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 200:
        raise InvalidAssertion("malformed jti")
    return jti, exp
