"""Constants and helpers shared by the SDK's tests (kept out of conftest.py so that importing
them cannot pick up another suite's conftest module when both suites run together)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx

from registry_client import AsyncRegistryClient

BASE_URL = "https://registry.test"
CLIENT_ID = "cli_test"
CLIENT_SECRET = "brs_secret"
HASHING_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
TOKEN_A = "a" * 64
TOKEN_B = "b" * 64


def token_grant(
    counter: Iterator[int], expires_in: int = 900
) -> Callable[[httpx.Request], httpx.Response]:
    """A token endpoint that issues jwt-1, jwt-2, ... in turn."""

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "access_token": f"jwt-{next(counter)}",
                "token_type": "Bearer",
                "expires_in": expires_in,
            },
        )

    return respond


def async_client(**options: object) -> AsyncRegistryClient:
    return AsyncRegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, HASHING_KEY, **options)  # type: ignore[arg-type]


def problem(status: int, title: str, detail: str = "", **extra: object) -> httpx.Response:
    """An RFC 9457 answer as the registry gives it."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": "req-1",
        "errors": [],
    }
    body.update(extra)
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})
