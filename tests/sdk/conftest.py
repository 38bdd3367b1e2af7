"""The SDK tests' live server: a real `registry serve` on the test database."""

import pytest

from tests.sdk.support import live_server_on


@pytest.fixture(scope="module")
def live_server(database_url, tmp_path_factory):
    """A real `registry serve` process on the test database (its background jobs off: the
    in-process app's tests run deliveries themselves, see tests/servers.py)."""
    with live_server_on(database_url, tmp_path_factory, "--no-migrate") as server:
        yield server
