"""Tamper evidence: sealed checkpoints chain the audit rows and are signed; verification
notices a changed row, a removed row, a row slipped into a sealed range, and a forged
checkpoint. Runs on its own database, since it tampers on purpose."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys

import asyncpg
import pytest

from registry.audit import sealing
from registry.core import migrate
from registry.core.db import init_connection
from registry.core.keys import SigningKey, jwk_thumbprint
from tests.conftest import create_database, drop_database, with_database


@pytest.fixture
async def own_database(server_url):
    name = f"registry_audit_{secrets.token_hex(4)}"
    await create_database(server_url, name)
    url = with_database(server_url, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(server_url, name)


@pytest.fixture
def key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    return SigningKey(jwk_thumbprint(private.public_key()), private)


async def _append(conn, n: int, tag: str) -> None:
    for i in range(n):
        await conn.execute(
            "INSERT INTO audit_log (action, outcome, request_id, details) VALUES ('auth.failed', 401, $1, $2)",
            f"{tag}-{i}", {"i": i},
        )


async def _tamper(conn, statement: str, *args) -> None:
    """What an attacker with superuser access would do: switch the guard off, change, switch it on."""
    async with conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        await conn.execute(statement, *args)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def test_seal_and_verify_and_every_kind_of_tampering(own_database, key):
    conn = await asyncpg.connect(own_database)
    await init_connection(conn)
    keys = {key.kid: key}
    try:
        await _append(conn, 5, "first")
        assert await sealing.seal(conn, key) == 5
        await _append(conn, 3, "second")
        assert await sealing.seal(conn, key) == 3
        assert await sealing.seal(conn, key) == 0
        await _append(conn, 2, "later")
        report = await sealing.verify(conn, keys)
        assert report.ok and report.checkpoints == 2 and report.sealed_rows == 8 and report.unsealed_rows == 2

        await _tamper(conn, "UPDATE audit_log SET outcome = 200 WHERE request_id = 'first-2'")
        report = await sealing.verify(conn, keys)
        assert not report.ok and report.problems == ["checkpoint 1: rows differ from what was sealed"]
        await _tamper(conn, "UPDATE audit_log SET outcome = 401 WHERE request_id = 'first-2'")
        assert (await sealing.verify(conn, keys)).ok

        await _tamper(conn, "DELETE FROM audit_log WHERE request_id = 'second-1'")
        report = await sealing.verify(conn, keys)
        assert "checkpoint 2: sealed 3 rows, 2 are there now" in report.problems

        first_txid = await conn.fetchval("SELECT txid FROM audit_log WHERE request_id = 'first-0'")
        await conn.execute(
            "INSERT INTO audit_log (action, outcome, request_id, details, txid) VALUES ('auth.token', 200, 'slipped', '{}', $1)",
            first_txid,
        )
        report = await sealing.verify(conn, keys)
        assert "checkpoint 1: sealed 5 rows, 6 are there now" in report.problems

        assert any(p.endswith("which is not in the key set") for p in (await sealing.verify(conn, {})).problems)
    finally:
        await conn.close()


async def test_checkpoints_cannot_be_rewritten_and_a_forged_one_fails(own_database, key):
    conn = await asyncpg.connect(own_database)
    await init_connection(conn)
    try:
        await _append(conn, 2, "cp")
        await sealing.seal(conn, key)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE audit_checkpoints SET rows = 1")
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER")
            await conn.execute("UPDATE audit_checkpoints SET signature = $1", bytes(64))
            await conn.execute("ALTER TABLE audit_checkpoints ENABLE TRIGGER USER")
        report = await sealing.verify(conn, {key.kid: key})
        assert report.problems == ["checkpoint 1: signature does not verify"]
    finally:
        await conn.close()


async def test_rows_of_a_transaction_still_running_wait_for_the_next_seal(own_database, key):
    writer = await asyncpg.connect(own_database)
    sealer = await asyncpg.connect(own_database)
    await init_connection(writer)
    await init_connection(sealer)
    try:
        tx = writer.transaction()
        await tx.start()
        await _append(writer, 1, "slow")  # takes the lower id, commits last
        await _append(sealer, 1, "fast")
        assert await sealing.seal(sealer, key) == 0  # the slow transaction holds the horizon back
        await tx.commit()
        assert await sealing.seal(sealer, key) == 2
        assert (await sealing.verify(sealer, {key.kid: key})).ok
    finally:
        await writer.close()
        await sealer.close()


async def test_admin_verify_endpoint_and_cli(http, registry, database_url, tmp_path, app):
    r = await http.get("/admin/audit/verify", headers=registry.admin.headers)
    assert r.status_code == 200 and r.json()["ok"] is True
    member = await registry.member()
    assert (await http.get("/admin/audit/verify", headers=member.headers)).status_code == 403
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=database_url, REGISTRY_DATA_DIR=str(app.state.runtime.settings.data_dir))
    sealed = subprocess.run([sys.executable, "-m", "registry", "audit", "seal"], env=env, capture_output=True, text=True)
    assert sealed.returncode == 0, sealed.stderr
    assert json.loads(sealed.stdout)["sealed_rows"] >= 0
    verified = subprocess.run([sys.executable, "-m", "registry", "audit", "verify"], env=env, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True
