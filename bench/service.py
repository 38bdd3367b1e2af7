"""The real service for the benchmark: `registry serve --workers N --no-migrate` as a child
process on a free port, access tokens issued before the load, and the load generator run
against it as a process of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.database import BenchClient
from bench.measure import Measurement

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    process: subprocess.Popen
    host: str
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the server process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    database_url: str,
    server_key: bytes,
    data_dir: Path,
    *,
    workers: int,
    log_level: str,
    role: str | None,
    quota_per_minute: int,
    source: Path = ROOT,
) -> Service:
    """Serve the registry on the bench database and wait until every worker answers. Its
    role and exposure quota are given, so the other sides can pass the very same. `source`:
    the source tree whose `registry` package serves (another revision's, to compare with)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(
        REGISTRY_DATABASE_URL=database_url,
        REGISTRY_SERVER_KEY=server_key.hex(),
        REGISTRY_DATA_DIR=str(data_dir),
        REGISTRY_ACCESS_TOKEN_TTL_SECONDS="3600",  # outlives the run: no token expires mid-phase
        REGISTRY_LOG_LEVEL=log_level,
        REGISTRY_DATABASE_ROLE=role or "",
        REGISTRY_DEFAULT_EXPOSURE_PER_MINUTE=str(quota_per_minute),
    )
    log_path = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "registry",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-migrate",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=source, stdout=log, stderr=subprocess.STDOUT)
    service = Service(process, "127.0.0.1", port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        if len(service.worker_pids()) >= workers and _ready(service.base_url, workers):
            return service
        time.sleep(0.2)
    service.stop()
    raise RuntimeError(f"the server did not become ready: {log_path.read_text()[-2000:]}")


def _ready(base_url: str, workers: int) -> bool:
    """Ready answers from fresh connections, enough of them to have reached every worker."""
    try:
        return all(httpx.get(base_url + "/readyz", timeout=2).status_code == 200 for _ in range(4 * workers))
    except httpx.TransportError:
        return False


def access_tokens(service: Service, clients: Sequence[BenchClient]) -> list[str]:
    """One access token per member's client, fetched before the load starts."""
    tokens = []
    with httpx.Client(base_url=service.base_url, timeout=10) as http:
        for client in clients:
            response = http.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret)
            )
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
    return tokens


def run_load(
    service: Service,
    tokens: Sequence[str],
    subjects_file: Path,
    work_dir: Path,
    *,
    name: str,
    batch_size: int,
    concurrency: int,
    duration: float,
    warmup: float,
    consent_ref: str,
    database: str,
    postmaster: int | None,
    check: str = "exposure",
) -> Measurement:
    """Run the load generator process against the service and read back its measurement
    (`check`: `exposure`, or `vehicle` for vehicle checks about the file's vin tokens)."""
    config_path = work_dir / f"loadgen-{name.replace(' ', '-')}.json"
    config = {
        "host": service.host,
        "port": service.port,
        "access_tokens": list(tokens),
        "subjects_file": str(subjects_file),
        "name": name,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "duration": duration,
        "warmup": warmup,
        "consent_ref": consent_ref,
        "database": database,
        "service_pids": service.pids(),
        "postmaster": postmaster,
        "check": check,
    }
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds access tokens
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle)
    output_path = config_path.with_suffix(".out.json")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", str(config_path), str(output_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=duration + warmup + 600,
        )
    finally:
        config_path.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr[-2000:]}")
    out = json.loads(output_path.read_text())
    output_path.unlink()
    return Measurement.from_summary(out["summary"], out["latencies_ms"])
