"""Constants and helpers shared by the SDK's tests (kept out of conftest.py so that importing
them cannot pick up another suite's conftest module when both suites run together)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from registry_client import AsyncRegistryClient

BASE_URL = "https://registry.test"
# Shaped as the registry issues them (registry/auth/secrets.py, core/middleware.py): the
# mocks stand in for the real service, so their data looks like its data.
CLIENT_ID = "brc_5b0e2c7d9a41f386"
CLIENT_SECRET = "brs_kQ3v9x1mZ0p8YtW4rL6sN2bH7cD5fG1jA3eR9uI0oP4"
REQUEST_ID = "8c2f41d07a9be536"
MEMBER_ID = "6f1c0a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
HASHING_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
TOKEN_A = "a" * 64
TOKEN_B = "b" * 64
CLI_ENV = {
    "REGISTRY_URL": BASE_URL,
    "REGISTRY_CLIENT_ID": CLIENT_ID,
    "REGISTRY_CLIENT_SECRET": CLIENT_SECRET,
    "REGISTRY_HASHING_KEY": HASHING_KEY,
}


def record_id(n: int) -> str:
    """A record id as the registry issues them (UUIDv7), numbered for the test."""
    return f"0193a5b0-7c1e-7d2f-8a3b-{n:012x}"


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
        "request_id": REQUEST_ID,
        "errors": [],
    }
    body.update(extra)
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def assert_one_clear_line(result: Any, code: int, text: str) -> None:
    """A command that failed as the CLI promises: one `error:` line on stderr, no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and text in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr


def upload_job(**fields: Any) -> dict[str, Any]:
    """A job as `/v1/uploads` answers it: finished, two lines created and one rejected."""
    return {
        "id": "0b5d5f7e-4b1e-4f43-9a53-3f1b0f7a8c11",
        "status": "completed",
        "format": "csv",
        "gzip": True,
        "received_lines": 3,
        "total_lines": 3,
        "processed_lines": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "rejected": 1,
        "error": None,
        "created_at": "2026-11-30T02:00:01Z",
        "updated_at": "2026-11-30T02:00:02Z",
        "finished_at": "2026-11-30T02:00:02Z",
        **fields,
    }
