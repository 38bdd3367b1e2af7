"""What the SDK tests share: a member's environment for the CLI, and running the CLI."""

import os
import subprocess
import sys
from pathlib import Path

from registry_client import RegistryClient
from tests.factories import token


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
