"""The real thing: `registry serve` as a process on a free port with a fresh data dir and
its embedded PostgreSQL, then the README's steps: bootstrap, a token, an admin call."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def registry_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env["REGISTRY_DATA_DIR"] = str(data_dir)
    return env


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stdout.read() if proc.stdout else ''}")
        try:
            r = httpx.get(base + "/readyz", timeout=1)
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def test_serve_bootstrap_token_and_admin_call(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = registry_env(data_dir)
    cli = [sys.executable, "-m", "registry"]
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        ready = wait_ready(base, proc)
        assert ready.json()["status"] == "ready"

        first = subprocess.run([*cli, "bootstrap"], env=env, capture_output=True, text=True, check=True)
        boot = json.loads(first.stdout)
        assert set(boot) == {"member_code", "client_id", "client_secret", "hashing_key"}
        assert len(boot["hashing_key"]) == 64 and boot["client_secret"].startswith("brs_")

        again = json.loads(subprocess.run([*cli, "bootstrap"], env=env, capture_output=True, text=True, check=True).stdout)
        assert again == {k: v for k, v in boot.items() if k != "client_secret"}

        token = httpx.post(
            base + "/oauth/token", data={"grant_type": "client_credentials"}, auth=(boot["client_id"], boot["client_secret"])
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(base + "/admin/members", json={"code": "BANK001", "name": "First Bank", "kind": "bank"}, headers=headers)
        assert created.status_code == 201, created.text
        listed = httpx.get(base + "/admin/members", headers=headers).json()
        assert {m["code"] for m in listed["data"]} == {boot["member_code"], "BANK001"}

        # The CLI shares the server's database: a suspension there locks the member out here.
        cli_client = json.loads(
            subprocess.run(
                [*cli, "clients", "create", "BANK001", "--name", "ops", "--scope", "records:read"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout
        )
        member_token = httpx.post(
            base + "/oauth/token", data={"grant_type": "client_credentials"},
            auth=(cli_client["client_id"], cli_client["client_secret"]),
        ).json()["access_token"]
        member_headers = {"Authorization": f"Bearer {member_token}"}
        assert httpx.get(base + "/admin/members", headers=member_headers).status_code == 403
        subprocess.run([*cli, "members", "suspend", "BANK001"], env=env, capture_output=True, check=True)
        deadline = time.monotonic() + 5
        while httpx.get(base + "/admin/members", headers=member_headers).status_code != 401:
            assert time.monotonic() < deadline, "suspension did not reach the server"
            time.sleep(0.05)

        bad = subprocess.run([*cli, "members", "create", "lower-case", "--name", "x"], env=env, capture_output=True, text=True)
        assert bad.returncode != 0 and "Traceback" not in bad.stderr and bad.stderr.strip().startswith("error:")
    finally:
        proc.send_signal(signal.SIGTERM)  # what a container runtime sends
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    # The embedded PostgreSQL stopped with the last process that used it.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
