"""`registry staff create | list | disable | reset`: accounts made on the server, their secrets
printed once as JSON, argon2id in the table, and every change in the audit log."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys

from argon2 import PasswordHasher

from tests.servers import registry_env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry", "staff", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_staff_commands(database_url, tmp_path, pool):
    env = registry_env(tmp_path / "data", database_url)
    email = f"Analyst-{secrets.token_hex(3)}@Association.test"

    created = run(env, "create", email, "--role", "analyst")
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)
    assert set(shown) == {"email", "role", "password", "totp_secret"}
    assert shown["email"] == email.lower() and shown["role"] == "analyst"
    assert len(base64.b32decode(shown["totp_secret"])) >= 16  # RFC 6238 secret, base32
    row = await pool.fetchrow("SELECT * FROM staff WHERE email = $1", email.lower())
    assert row["password_hash"].startswith("$argon2id$")
    assert PasswordHasher().verify(row["password_hash"], shown["password"])
    assert shown["totp_secret"].encode() not in bytes(row["totp_sealed"])  # sealed, not stored as given

    again = run(env, "create", email, "--role", "admin")
    assert again.returncode == 1 and "already exists" in again.stderr

    listed = run(env, "list")
    assert listed.returncode == 0
    accounts = {a["email"]: a for a in json.loads(listed.stdout)}
    assert accounts[email.lower()]["status"] == "active"
    assert shown["password"] not in listed.stdout and shown["totp_secret"] not in listed.stdout

    disabled = run(env, "disable", email)
    assert disabled.returncode == 0 and json.loads(disabled.stdout)["status"] == "disabled"

    reset = run(env, "reset", email)
    assert reset.returncode == 0, reset.stderr
    renewed = json.loads(reset.stdout)
    assert renewed["password"] != shown["password"] and renewed["totp_secret"] != shown["totp_secret"]
    row = await pool.fetchrow("SELECT * FROM staff WHERE email = $1", email.lower())
    assert row["status"] == "active" and PasswordHasher().verify(row["password_hash"], renewed["password"])

    assert run(env, "disable", "nobody@association.test").returncode == 1
    audited = await pool.fetch(
        "SELECT action, client_id, details FROM audit_log WHERE resource = $1 ORDER BY id", f"staff:{email.lower()}"
    )
    assert [r["action"] for r in audited] == ["staff.create", "staff.disable", "staff.reset"]
    assert all(r["client_id"] == "cli" for r in audited)
    assert not any(shown["password"] in str(r["details"]) for r in audited)
