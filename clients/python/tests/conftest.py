"""Fixtures for the SDK's unit tests: a mocked registry, a recorded sleep, a clean environment."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from registry_client import RegistryClient
from registry_client._base_client import AsyncAPIClient, SyncAPIClient

from sdk_helpers import BASE_URL, CLI_ENV, CLIENT_ID, CLIENT_SECRET, HASHING_KEY, token_grant


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own REGISTRY_* variables must not leak into the tests."""
    for name in (
        "REGISTRY_URL",
        "REGISTRY_CLIENT_ID",
        "REGISTRY_CLIENT_SECRET",
        "REGISTRY_HASHING_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff delays are recorded instead of slept, so retry tests run instantly."""
    delays: list[float] = []

    async def async_sleep(self: AsyncAPIClient, seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(SyncAPIClient, "_sleep", lambda self, seconds: delays.append(seconds))
    monkeypatch.setattr(AsyncAPIClient, "_sleep", async_sleep)
    return delays


@pytest.fixture
def api(sleeps: list[float]) -> Iterator[respx.MockRouter]:
    """A mocked registry whose token endpoint issues jwt-1, jwt-2, ... valid for 15 minutes."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.post("/oauth/token", name="token").mock(side_effect=token_grant(itertools.count(1)))
        yield router


@pytest.fixture
def client(api: respx.MockRouter) -> Iterator[RegistryClient]:
    with RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, HASHING_KEY) as registry:
        yield registry


@pytest.fixture
def run() -> Callable[..., Any]:
    """Run `registry-client` in-process (typer's CliRunner) with the mocked registry's settings."""
    from typer.testing import CliRunner

    from registry_client.cli import app

    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
        return runner.invoke(app, list(args), env=CLI_ENV if env is None else env, input=stdin)

    return invoke
