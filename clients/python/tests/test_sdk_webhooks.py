"""`registry_client.webhooks.verify` checks exactly what the registry signs: the vectors are
made by the service's own `registry.monitoring.signatures`, imported directly: a rename there
fails these tests instead of skipping them."""

from __future__ import annotations

import hmac
import json

import pytest
from registry.monitoring import signatures as server

from registry_client import RegistryError, WebhookSignatureError, webhooks

SECRET = "whsec_0123456789abcdef0123456789"
NOW = 1_764_321_123
BODY = json.dumps(
    {
        "id": 981,
        "type": "alert",
        "created_at": "2026-11-28T09:12:03Z",
        "data": {
            "id": 4711,
            "subject": "9f" * 32,
            "label": "retail",
            "kind": "worsened",
            "status": "dpd_61_90",
            "at": "2026-11-28T09:12:03Z",
        },
    },
    separators=(",", ":"),
).encode()


def test_the_registry_signature_verifies_and_parses() -> None:
    header = server.sign(SECRET, NOW, BODY)
    assert webhooks.verify(BODY, header, SECRET, now=NOW + 10) == NOW
    assert webhooks.verify(BODY.decode(), header, SECRET, now=NOW - 10) == NOW  # str body
    event = webhooks.construct_event(BODY, header, SECRET, now=NOW)
    assert (event.id, event.type) == ("981", "alert")
    assert event.alert is not None and event.alert.kind == "worsened"
    assert event.alert.subject == "9f" * 32 and event.alert.id == "4711"


def test_sign_is_the_registrys_signature() -> None:
    for body, timestamp in [(BODY, NOW), (b"", 0), ('{"ü":1}'.encode(), 1_700_000_000)]:
        assert webhooks.sign(body, SECRET, timestamp) == server.sign(SECRET, timestamp, body)
        server.verify(body, webhooks.sign(body, SECRET, timestamp), SECRET, now=timestamp)


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "reason"),
    [
        (BODY + b" ", server.sign(SECRET, NOW, BODY), SECRET, NOW, "does not match"),
        (BODY, server.sign(SECRET, NOW, BODY), SECRET + "x", NOW, "does not match"),
        (BODY, server.sign(SECRET, NOW, BODY), SECRET, NOW + 301, "tolerance"),
        (BODY, server.sign(SECRET, NOW, BODY), SECRET, NOW - 301, "tolerance"),
        (
            BODY,
            server.sign(SECRET, NOW + 1, BODY).replace(f"t={NOW + 1}", f"t={NOW}"),
            SECRET,
            NOW,
            "does not match",
        ),
        (BODY, None, SECRET, NOW, "missing"),
        (BODY, "", SECRET, NOW, "missing"),
        (BODY, f"v1={server.signature(SECRET, NOW, BODY)}", SECRET, NOW, "timestamp"),
        (BODY, f"t=abc,v1={server.signature(SECRET, NOW, BODY)}", SECRET, NOW, "timestamp"),
        (
            BODY,
            f"t={NOW},t={NOW},v1={server.signature(SECRET, NOW, BODY)}",
            SECRET,
            NOW,
            "timestamp",
        ),
        (BODY, f"t={NOW}", SECRET, NOW, "no v1"),
        (BODY, f"t={NOW},v0={server.signature(SECRET, NOW, BODY)}", SECRET, NOW, "no v1"),
        (BODY, f"t={NOW},v1=ü", SECRET, NOW, "not ascii"),
    ],
)
def test_bad_signatures_are_refused(
    body: bytes, header: str | None, secret: str, now: int, reason: str
) -> None:
    with pytest.raises(WebhookSignatureError, match=reason) as refused:
        webhooks.verify(body, header, secret, now=now)
    assert isinstance(refused.value, RegistryError) and isinstance(refused.value, ValueError)
    # The service's own check agrees with every refusal that is not about header syntax.
    if reason in ("does not match", "tolerance", "missing"):
        with pytest.raises(server.SignatureError):
            server.verify(body, header, secret, now=now)


def test_tolerance_is_the_callers() -> None:
    header = server.sign(SECRET, NOW, BODY)
    assert webhooks.verify(BODY, header, SECRET, tolerance=3600, now=NOW + 3000) == NOW
    with pytest.raises(WebhookSignatureError):
        webhooks.verify(BODY, header, SECRET, tolerance=0, now=NOW + 1)


def test_any_of_several_signatures_may_match_and_all_are_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def recording_compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", recording_compare)
    good = server.signature(SECRET, NOW, BODY)
    header = f"t={NOW},v1={good},v1={'0' * 64}"
    assert webhooks.verify(BODY, header, SECRET, now=NOW) == NOW
    assert len(compared) == 2  # the second is compared although the first matched
