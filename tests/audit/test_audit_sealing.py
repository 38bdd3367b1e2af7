"""Tamper evidence: every audit row is hashed at insert, sealed checkpoints chain the hashes
and are signed; verification notices a changed row (and names it), a removed row, a row
slipped into a sealed range, and a forged checkpoint; the chain's head reaches members.
Tests that tamper or publish run on a database of their own."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.audit import publishing, sealing
from registry.core.db import init_connection
from registry.core.keys import SigningKey, jwk_thumbprint
from tests.factories import token


@pytest.fixture
def key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    return SigningKey(jwk_thumbprint(private.public_key()), private)


async def _append(conn, n: int, tag: str) -> None:
    for i in range(n):
        await conn.execute(
            "INSERT INTO audit_log (action, outcome, request_id, details) VALUES ('auth.failed', 401, $1, $2)",
            f"{tag}-{i}",
            {"i": i},
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

        changed_id = await conn.fetchval("SELECT id FROM audit_log WHERE request_id = 'first-2'")
        await _tamper(conn, "UPDATE audit_log SET outcome = 200 WHERE request_id = 'first-2'")
        report = await sealing.verify(conn, keys)
        assert not report.ok and report.problems == [
            f"row {changed_id} (auth.failed, no member): changed after checkpoint 1 sealed it"
        ]
        assert [(r.id, r.action, r.checkpoint, r.found) for r in report.changed_rows] == [
            (changed_id, "auth.failed", 1, "after_sealing")
        ]
        await _tamper(conn, "UPDATE audit_log SET outcome = 401 WHERE request_id = 'first-2'")
        assert (await sealing.verify(conn, keys)).ok

        # Rewriting the stored hash along with the content does not help once the row is sealed.
        await _tamper(
            conn,
            "UPDATE audit_log SET outcome = 200, row_hash = audit_row_hash(id, txid, at, member_id, client_id, action, "
            "resource, 200::smallint, request_id, details) WHERE request_id = 'first-2'",
        )
        report = await sealing.verify(conn, keys)
        assert report.problems == ["checkpoint 1: rows differ from what was sealed"]
        await _tamper(
            conn,
            "UPDATE audit_log SET outcome = 401, row_hash = audit_row_hash(id, txid, at, member_id, client_id, action, "
            "resource, 401::smallint, request_id, details) WHERE request_id = 'first-2'",
        )
        assert (await sealing.verify(conn, keys)).ok

        await _tamper(conn, "DELETE FROM audit_log WHERE request_id = 'second-1'")
        report = await sealing.verify(conn, keys)
        assert "checkpoint 2: sealed 3 rows, 2 are there now" in report.problems

        first_txid = await conn.fetchval("SELECT txid FROM audit_log WHERE request_id = 'first-0'")
        await conn.execute(
            "INSERT INTO audit_log (action, outcome, request_id, details, txid) "
            "VALUES ('auth.token', 200, 'slipped', '{}', $1)",
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


async def test_admin_verify_endpoint(http, registry):
    r = await http.get("/admin/audit/verify", headers=registry.admin.headers)
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["changed_rows"] == []
    member = await registry.member()
    assert (await http.get("/admin/audit/verify", headers=member.headers)).status_code == 403


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "registry", "audit", *args], env=env, capture_output=True, text=True)


async def test_cli_seals_what_is_unsealed_and_verifies_it(own_database, tmp_path):
    conn = await asyncpg.connect(own_database)
    await init_connection(conn)
    try:
        await _append(conn, 3, "cli")
    finally:
        await conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=own_database, REGISTRY_DATA_DIR=str(tmp_path))
    sealed = await asyncio.to_thread(_cli, env, "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert json.loads(sealed.stdout) == {"sealed_rows": 3}
    again = await asyncio.to_thread(_cli, env, "seal")
    assert json.loads(again.stdout) == {"sealed_rows": 0}
    verified = await asyncio.to_thread(_cli, env, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True and (report["checkpoints"], report["sealed_rows"], report["unsealed_rows"]) == (1, 3, 0)


# --- each row's own hash -------------------------------------------------------------------


async def _rows(conn, where: str = "true", *args) -> list:
    return await conn.fetch(f"SELECT {sealing.COLUMNS} FROM audit_log WHERE {where} ORDER BY id", *args)


async def test_every_row_carries_its_hash_from_insert_and_an_untouched_log_verifies(own_database, key):
    """The trigger's hash and the verifier's agree on every kind of value (NULLs, other
    scripts, nested details, quotes), and a hash the inserting statement supplies is ignored."""
    conn = await asyncpg.connect(own_database)
    await init_connection(conn)
    try:
        await conn.execute(
            "INSERT INTO audit_log (member_id, client_id, action, resource, outcome, request_id, details, row_hash) "
            "VALUES ($1, 'brc_1', 'exposure.query', 'exposure', 200, '请求-1', $2, '\\x00')",
            uuid.uuid4(),
            {"purpose": "loan_application", "nested": {"b": [1, 2.5, None, 'é\n"x"']}, "a": ""},
        )
        await conn.execute("INSERT INTO audit_log (action, outcome) VALUES ('auth.failed', 401)")
        await _append(conn, 2, "plain")
        rows = await _rows(conn)
        assert len(rows) == 4
        assert all(r["row_hash"] == sealing.row_hash(r) for r in rows)
        assert rows[0]["row_hash"] != b"\x00"
        assert await sealing.seal(conn, key) == 4
        await _append(conn, 1, "unsealed")
        report = await sealing.verify(conn, {key.kid: key})
        assert report.ok and report.changed_rows == [] and (report.sealed_rows, report.unsealed_rows) == (4, 1)
        assert await conn.fetchval("SELECT format FROM audit_checkpoints") == 2
    finally:
        await conn.close()


async def test_the_exposure_functions_audit_rows_carry_hashes(http, registry, pool):
    member = await registry.member()
    r = await http.post(
        "/v1/exposure",
        json={"subjects": [token()], "purpose": "loan_application", "consent_ref": "C-1"},
        headers=member.headers,
    )
    assert r.status_code == 200
    rows = await _rows(pool, "request_id = $1", r.headers["x-request-id"])
    assert [row["action"] for row in rows] == ["exposure.query"]
    assert rows[0]["row_hash"] == sealing.row_hash(rows[0])
    refused = await http.post(
        "/v1/exposure", json={"subjects": [token()], "purpose": "account_review"}, headers=member.headers
    )
    assert refused.status_code == 403
    rows = await _rows(pool, "request_id = $1", refused.headers["x-request-id"])
    assert [(row["action"], row["outcome"]) for row in rows] == [("exposure.query", 403)]
    assert rows[0]["row_hash"] == sealing.row_hash(rows[0])


# --- the checkpoint head published to members ---------------------------------------------


def _head_verifies(head: dict, jwks: dict) -> bool:
    """What a member does with a head, written from docs/security.md alone."""
    jwk = next(k for k in jwks["keys"] if k["kid"] == head["kid"])
    public_key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4)))
    position = [head["last_txid"], head["last_id"], head["rows"]]
    if head["format"] >= 2:
        position.append(head["changed_rows"])
    message = (
        f"registry-audit-v{head['format']}|".encode()
        + bytes.fromhex(head["previous_digest"])
        + bytes.fromhex(head["digest"])
        + json.dumps(position, separators=(",", ":")).encode()
    )
    try:
        public_key.verify(bytes.fromhex(head["signature"]), message)
    except InvalidSignature:
        return False
    return True


async def _feed(http, member) -> list[dict]:
    r = await http.get("/v1/alerts", headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def _seal_and_publish(service, now: datetime) -> int | None:
    async with service.runtime.db.system_pool.acquire() as conn:
        await sealing.seal(conn, service.runtime.tokens.current_key())
        return await publishing.publish_if_due(conn, now=now, every_seconds=86_400)


async def test_a_checkpoint_head_reaches_every_active_members_feed_and_verifies_with_the_published_key(own_app):
    http, registry = own_app.http, own_app.registry
    holder, suspended = await registry.member(), await registry.member()
    r = await http.patch(f"/admin/members/{suspended.id}", json={"status": "suspended"}, headers=registry.admin.headers)
    assert r.status_code == 200
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)

    first = await _seal_and_publish(own_app, now)
    assert first is not None
    [alert] = await _feed(http, holder)
    assert (alert["kind"], alert["subject"], alert["label"], alert["status"]) == ("audit_checkpoint", None, None, None)
    head = alert["checkpoint"]
    assert head["id"] == first and head["format"] == 2 and head["changed_rows"] == []
    jwks = (await http.get("/.well-known/jwks.json")).json()
    assert _head_verifies(head, jwks)
    assert not _head_verifies({**head, "rows": head["rows"] + 1}, jwks)
    assert (
        await own_app.pool.fetchval(
            "SELECT count(*) FROM alerts WHERE member_id = $1 AND kind = 'audit_checkpoint'", suspended.id
        )
        == 0
    )
    [published] = await own_app.pool.fetch("SELECT * FROM audit_log WHERE action = 'audit.checkpoint.publish'")
    assert published["details"]["checkpoint"] == first and published["details"]["members"] == 2  # holder, association

    # Not again within the interval; a day later the newer head.
    assert await _seal_and_publish(own_app, now + timedelta(hours=23)) is None
    assert len(await _feed(http, holder)) == 1
    second = await _seal_and_publish(own_app, now + timedelta(days=1))
    assert second is not None and second > first
    heads = [a["checkpoint"] for a in await _feed(http, holder)]
    assert [h["id"] for h in heads] == [first, second]

    # The chain from the head held to the newer one: each links to the one before, each signed.
    chain = []
    cursor = None
    while True:
        params = {"from_checkpoint": first, "limit": 1} | ({"cursor": cursor} if cursor else {})
        r = await http.get("/v1/audit/checkpoints", params=params, headers=holder.headers)
        assert r.status_code == 200, r.text
        chain += r.json()["data"]
        if not (cursor := r.json()["next_cursor"]):
            break
    assert chain[0] == heads[0] and chain[-1] == heads[1] and len(chain) >= 2
    assert all(later["previous_digest"] == earlier["digest"] for earlier, later in itertools.pairwise(chain))
    assert all(_head_verifies(h, jwks) for h in chain)


async def test_the_checkpoint_chain_needs_the_monitor_scope(own_app):
    http, registry = own_app.http, own_app.registry
    assert (await http.get("/v1/audit/checkpoints")).status_code == 401
    reader = await registry.member(scopes=["records:read"])
    assert (await http.get("/v1/audit/checkpoints", headers=reader.headers)).status_code == 403
    assert (
        await http.get("/v1/audit/checkpoints", params={"cursor": "bad"}, headers=registry.admin.headers)
    ).status_code == 403
    watcher = await registry.member(scopes=["monitor"])
    assert (
        await http.get("/v1/audit/checkpoints", params={"cursor": "bad"}, headers=watcher.headers)
    ).status_code == 422
    r = await http.get("/v1/audit/checkpoints", params={"from_checkpoint": 0}, headers=watcher.headers)
    assert r.status_code == 422
