"""Checking the deliveries the registry sends to a member's webhook.

Each delivery carries `Registry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>`. A receiver checks it on the raw body, before parsing, and refuses old
timestamps so that a captured delivery cannot be replayed later:

    event = registry_client.webhooks.construct_event(body, headers["Registry-Signature"], secret)
"""

from __future__ import annotations

import hashlib
import hmac
import time

from registry_client._exceptions import WebhookSignatureError
from registry_client.types.monitoring import WebhookEvent

__all__ = ["HEADER", "WebhookSignatureError", "construct_event", "sign", "verify"]

HEADER = "Registry-Signature"
DEFAULT_TOLERANCE = 300


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """A `Registry-Signature` value as the registry makes it (for testing a receiver)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_signature(secret, timestamp, _as_bytes(body))}"


def verify(
    body: bytes | str,
    header: str | None,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> int:
    """Check a delivery: `body` exactly as received, `header` its `Registry-Signature`.

    Returns the signing time (unix seconds). Raises `WebhookSignatureError` when the header
    is missing or malformed, its time is more than `tolerance` seconds from `now` (this
    machine's clock by default), or no `v1` signature matches; the comparison takes the
    same time whatever the signature.
    """
    if not header:
        raise WebhookSignatureError("missing Registry-Signature header")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep and name == "t":
            timestamps.append(value)
        elif sep and name == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise WebhookSignatureError("no valid timestamp (t=) in Registry-Signature")
    if not signatures:
        raise WebhookSignatureError("no v1 signature in Registry-Signature")
    if not all(candidate.isascii() for candidate in signatures):
        raise WebhookSignatureError("v1 signature is not ascii hex")
    timestamp = int(timestamps[0])
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise WebhookSignatureError(
            f"signature time is {abs(age):.0f} s from now, beyond the {tolerance} s tolerance"
        )
    expected = _signature(secret, timestamp, _as_bytes(body)).encode()
    # Every candidate is compared, so the time taken does not tell which one came close.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.strip().encode("ascii"))
    if not matched:
        raise WebhookSignatureError("signature does not match the body and secret")
    return timestamp


def construct_event(
    body: bytes | str,
    header: str | None,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> WebhookEvent:
    """`verify` the delivery, then parse it: `event.type` is `alert` (see `event.alert`) or
    `ping`; `event.id` is the same on every retry of a delivery."""
    verify(body, header, secret, tolerance, now=now)
    return WebhookEvent.model_validate_json(_as_bytes(body))
