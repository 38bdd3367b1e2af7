"""Real `registry serve` processes for tests, started one way everywhere.

- On port 0: the kernel picks a free port when the server binds it, and the server's own
  start-up line ("Uvicorn running on http://127.0.0.1:PORT") says which. A port probed free
  and closed before the server binds it can be taken in between by anything else.
- With the background jobs that act on a shared database off (webhook deliveries, audit
  head publication, the daily retention pass), as the in-process app of tests/conftest.py
  has them: a server process holds its own server key (its data dir), so its delivery
  worker would claim another process's deliveries and fail to open their sealed secrets.
  A test about those jobs asks for them (`background=True`) or runs them itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# What tests/conftest.py's `settings` turns off for the in-process app, as environment.
QUIET_BACKGROUND = {
    "REGISTRY_WEBHOOK_POLL_SECONDS": "0",
    "REGISTRY_AUDIT_PUBLISH_SECONDS": "0",
    "REGISTRY_RETENTION_DAILY": "false",
    "REGISTRY_DISPUTE_CHECK_SECONDS": "0",
    "REGISTRY_STATS_ROLLUP_SECONDS": "0",
}
LISTENING = re.compile(r"Uvicorn running on (https?://[^\s:]+:\d+)")
START_SECONDS = 120  # a loaded machine starts a server slowly; a healthy one takes about two


def registry_env(
    data_dir: Path, database_url: str | None = None, *, background: bool = False, **settings: str
) -> dict[str, str]:
    """The environment of a `registry` command: none of the developer's REGISTRY_* variables,
    this data dir (and database, when given), the background jobs off unless `background`,
    then `settings` as REGISTRY_<NAME> variables (`token_failures_per_address="3"`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env["REGISTRY_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["REGISTRY_DATABASE_URL"] = database_url
    if not background:
        env.update(QUIET_BACKGROUND)
    env.update({f"REGISTRY_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-4000:]


def _listening_url(log_path: Path, proc: subprocess.Popen, deadline: float) -> str:
    while time.monotonic() < deadline:
        found = LISTENING.search(log_path.read_text(errors="replace"))
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{_tail(log_path)}")
        time.sleep(0.05)
    raise AssertionError(f"the server did not say where it listens:\n{_tail(log_path)}")


def _wait_ready(url: str, proc: subprocess.Popen, log_path: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{_tail(log_path)}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server did not become ready:\n{_tail(log_path)}")


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, as a container runtime sends it; killed if it does not end in time (and the
    test fails: a server that ignores SIGTERM is a defect)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@contextmanager
def serve(env: Mapping[str, str], log_path: Path, *args: str) -> Iterator[Server]:
    """`registry serve --port 0 ARGS` with `env` (see `registry_env`), its output in
    `log_path`; yields once it listens and answers /readyz, stops it on exit."""
    deadline = time.monotonic() + START_SECONDS
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", "0", *args],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = _listening_url(log_path, proc, deadline)
        _wait_ready(url, proc, log_path, deadline)
        yield Server(proc, url, log_path)
    finally:
        stop(proc)
