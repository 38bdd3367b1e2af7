"""What the SDK tests share: a member's environment for the CLI, and running the CLI."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry_client import RegistryClient
from tests.databases import create_database, drop_database, with_database
from tests.factories import token
from tests.servers import registry_env, serve


def member_env(live_server, scopes=("records:write", "records:read", "exposure:read")) -> dict[str, str]:
    with RegistryClient(live_server["url"], live_server["client_id"], live_server["client_secret"]) as admin:
        member = admin.admin.members.create(code="LIVE" + token()[:8].upper(), name="Live lender", kind="bank")
        issued = admin.admin.clients.create(member.id, name="cli", scopes=list(scopes))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(
        REGISTRY_URL=live_server["url"],
        REGISTRY_CLIENT_ID=issued.client_id,
        REGISTRY_CLIENT_SECRET=issued.client_secret,
        REGISTRY_HASHING_KEY=live_server["hashing_key"],
    )
    return env


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "registry-client"), *args], env=env, capture_output=True, text=True, cwd=cwd
    )


def admin_client(live_server) -> RegistryClient:
    """The association's admin client of the live server."""
    return RegistryClient(live_server["url"], live_server["client_id"], live_server["client_secret"])


def member_client(live_server, scopes=("records:write", "records:read", "disputes", "monitor"), kind="bank"):
    """A new member of the live server and a blocking client of it: (member, client)."""
    with admin_client(live_server) as admin:
        member = admin.admin.members.create(code="LIVE" + token()[:8].upper(), name="Live lender", kind=kind)
        issued = admin.admin.clients.create(member.id, name="sdk", scopes=list(scopes))
    client = RegistryClient(live_server["url"], issued.client_id, issued.client_secret, live_server["hashing_key"])
    return member, client


@contextmanager
def own_live_server(server_url, tmp_path_factory) -> Iterator[dict]:
    """A real server on a database of its own, migrated by the server as `make run` does: for
    tests that verify the whole audit log, which other processes' checkpoints (signed with
    keys this server does not hold) would otherwise fail."""
    name = f"registry_sdk_{secrets.token_hex(4)}"
    asyncio.run(create_database(server_url, name))
    try:
        with live_server_on(with_database(server_url, name), tmp_path_factory) as server:
            yield server
    finally:
        asyncio.run(drop_database(server_url, name))


@contextmanager
def live_server_on(database_url, tmp_path_factory, *args: str) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp("live")
    env = registry_env(data_dir, database_url)
    with serve(env, data_dir / "server.log", *args) as server:
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
