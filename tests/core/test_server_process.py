"""The real thing: `registry serve` as a process with a fresh data dir and its embedded
PostgreSQL, then the README's steps: bootstrap, a token, an admin call."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import registry_env, serve

pytestmark = pytest.mark.slow


def test_serve_bootstrap_token_and_admin_call(tmp_path):
    data_dir = tmp_path / "data"
    # Its own database: the background jobs run as they do for a user who follows the README.
    env = registry_env(data_dir, background=True)
    cli = [sys.executable, "-m", "registry"]
    with serve(env, tmp_path / "server.log") as server:
        base = server.url
        ready = httpx.get(base + "/readyz")
        assert ready.json()["status"] == "ready"

        first = subprocess.run([*cli, "bootstrap"], env=env, capture_output=True, text=True, check=True)
        boot = json.loads(first.stdout)
        assert set(boot) == {"member_code", "client_id", "client_secret", "hashing_key"}
        assert len(boot["hashing_key"]) == 64 and boot["client_secret"].startswith("brs_")

        again = json.loads(
            subprocess.run([*cli, "bootstrap"], env=env, capture_output=True, text=True, check=True).stdout
        )
        assert again == {k: v for k, v in boot.items() if k != "client_secret"}

        token = httpx.post(
            base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(boot["client_id"], boot["client_secret"]),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            base + "/admin/members", json={"code": "BANK001", "name": "First Bank", "kind": "bank"}, headers=headers
        )
        assert created.status_code == 201, created.text
        listed = httpx.get(base + "/admin/members", headers=headers).json()
        assert {m["code"] for m in listed["data"]} == {boot["member_code"], "BANK001"}

        # The CLI shares the server's database: a suspension there locks the member out here.
        cli_client = json.loads(
            subprocess.run(
                [*cli, "clients", "create", "BANK001", "--name", "ops", "--scope", "records:read"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        member_token = httpx.post(
            base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(cli_client["client_id"], cli_client["client_secret"]),
        ).json()["access_token"]
        member_headers = {"Authorization": f"Bearer {member_token}"}
        assert httpx.get(base + "/admin/members", headers=member_headers).status_code == 403
        subprocess.run([*cli, "members", "suspend", "BANK001"], env=env, capture_output=True, check=True)
        deadline = time.monotonic() + 10  # pushed by NOTIFY; a loaded machine may take seconds
        while httpx.get(base + "/admin/members", headers=member_headers).status_code != 401:
            assert time.monotonic() < deadline, "suspension did not reach the server"
            time.sleep(0.05)

        bad = subprocess.run(
            [*cli, "members", "create", "lower-case", "--name", "x"], env=env, capture_output=True, text=True
        )
        assert bad.returncode != 0 and "Traceback" not in bad.stderr and bad.stderr.strip().startswith("error:")
    # `serve` stopped it with SIGTERM, what a container runtime sends.
    # The embedded PostgreSQL stopped with the last process that used it.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def test_every_test_server_is_started_by_the_shared_helper():
    """tests/servers.py starts servers on port 0 with the background jobs off; a test that
    spawns `registry serve` its own way brings back the races it exists to prevent (a server
    delivering the in-process app's webhooks with another key, a port taken before the bind)."""
    root = Path(__file__).parents[1]
    spawning = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if path.name != "servers.py" and re.search(r'"serve"\s*,', path.read_text())
    }
    assert spawning == set(), spawning
