"""`private_key_jwt` client authentication (RFC 7523 §2.2): instead of a secret, the client
signs a short-lived JWT with its private key; the registry holds only the public JWK.

Each token request gets a new assertion (a new `jti`): the registry accepts each one once,
so a retried request must not reuse it. PyJWT signs (the `jwt` extra).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from registry_client._exceptions import RegistryError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = (
    60  # seconds: long enough for a slow network, short enough to be useless if copied
)


def public_jwk(private_key: Any) -> dict[str, Any]:
    """The public JWK of a private key (PEM or a `cryptography` key): what the association
    registers with `client.admin.clients.create(..., public_jwk=...)`."""
    return PrivateKey(private_key).public_jwk()


class PrivateKey:
    """An Ed25519 or P-256 private key and the one algorithm it signs with. Never printed."""

    def __init__(self, key: Any) -> None:
        try:
            from cryptography.hazmat.primitives.asymmetric import ec, ed25519
            from cryptography.hazmat.primitives.serialization import load_pem_private_key
        except ImportError as exc:  # pragma: no cover - depends on how the package was installed
            raise RegistryError(
                "private_key_jwt needs the jwt extra: pip install 'registry-client[jwt]'"
            ) from exc
        if isinstance(key, str):
            key = key.encode()
        if isinstance(key, bytes):
            try:
                key = load_pem_private_key(key, password=None)
            except (ValueError, TypeError) as exc:
                raise RegistryError("private_key is not an unencrypted PEM private key") from exc
        if isinstance(key, ed25519.Ed25519PrivateKey):
            self.algorithm = "EdDSA"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
            self.algorithm = "ES256"
        else:
            raise RegistryError("private_key must be an Ed25519 or P-256 (EC) private key")
        self._key = key

    def __repr__(self) -> str:
        return f"PrivateKey(algorithm={self.algorithm!r})"

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK: what the association registers for the client."""
        import json

        from jwt.algorithms import ECAlgorithm, OKPAlgorithm

        algorithm = OKPAlgorithm if self.algorithm == "EdDSA" else ECAlgorithm
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self._key.public_key()))
        return jwk

    def assertion(self, client_id: str, audience: str) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._key, algorithm=self.algorithm)
