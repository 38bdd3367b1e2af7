"""The SDK tests' live server: a real `registry serve` on the test database."""

import json
import subprocess
import sys

import pytest

from tests.servers import registry_env, serve


@pytest.fixture(scope="module")
def live_server(database_url, tmp_path_factory):
    """A real `registry serve` process on the test database (its background jobs off: the
    in-process app's tests run deliveries themselves, see tests/servers.py)."""
    data_dir = tmp_path_factory.mktemp("live")
    env = registry_env(data_dir, database_url)
    with serve(env, data_dir / "server.log", "--no-migrate") as server:
        boot = json.loads(
            subprocess.run(
                [sys.executable, "-m", "registry", "bootstrap", "--new-client"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        yield {"url": server.url, **boot}
