"""Client identifiers and secrets: random, prefixed, stored only as a hash, compared in
constant time. Secrets carry 256 bits of entropy, so a plain SHA-256 is a sound hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CLIENT_ID_PREFIX = "brc_"
CLIENT_SECRET_PREFIX = "brs_"

# Compared against when the client does not exist, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"no such client").digest()


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(8)


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def secret_matches(secret: str, stored_hash: bytes | None) -> bool:
    expected = stored_hash if stored_hash is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_secret(secret), expected)
    return matches and stored_hash is not None
