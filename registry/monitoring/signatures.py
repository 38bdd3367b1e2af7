"""Webhook signatures: `Registry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>`.

The service signs with `sign`; `verify` is what a receiver runs (docs/monitoring.md shows it
standalone). A receiver checks the timestamp against its own clock to refuse replays."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Registry-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, too old, or does not match."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a delivery; returns its timestamp or raises SignatureError."""
    if not header:
        raise SignatureError("missing signature header")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp in signature header") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance")
    expected = signature(secret, timestamp, body).encode()
    # Compared as bytes: compare_digest refuses non-ASCII str, and a crafted header must be a
    # refusal, not a crash.
    candidates = [c.encode("utf-8", "surrogateescape") for c in fields.get("v1", [])]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("signature does not match")
    return timestamp
