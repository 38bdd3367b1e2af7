"""Adversarial: a database superuser edits audit rows, switching the append-only guard off
and on again. Before each row carried its own hash from insert, a row edited in the
window before the sealer ran (up to 30 s) was sealed as edited and verified clean. Now the
sealer and the verifier both catch it and name the row; edits after sealing and edits to
rows not sealed yet are named too."""

from __future__ import annotations

import logging

import asyncpg
import pytest

from registry.audit import sealing
from tests.factories import item, submit, token

pytestmark = pytest.mark.attack

QUERY = {"purpose": "loan_application", "consent_ref": "CONSENT-7"}


async def _superuser_update(database_url: str, statement: str, *args) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            await conn.execute(statement, *args)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def _seal(service) -> int:
    async with service.runtime.db.system_pool.acquire() as conn:
        return await sealing.seal(conn, service.runtime.tokens.current_key())


async def _verify(service) -> dict:
    r = await service.http.get("/admin/audit/verify", headers=service.registry.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_row_edited_before_sealing_is_caught_by_the_sealer_and_by_verify(own_app, own_database, caplog):
    http, registry = own_app.http, own_app.registry
    lender = await registry.member()
    r = await http.post("/v1/exposure", json={"subjects": [token()], **QUERY}, headers=lender.headers)
    assert r.status_code == 200
    [row_id] = await own_app.pool.fetch("SELECT id FROM audit_log WHERE request_id = $1", r.headers["x-request-id"])
    row_id = row_id["id"]

    # Inside the sealing window: the query is rewritten as refused, so the lender seems never
    # to have seen the borrower's exposure.
    await _superuser_update(
        own_database,
        "UPDATE audit_log SET outcome = 403, details = details || '{\"refused_subjects\": 1}' WHERE id = $1",
        row_id,
    )
    with caplog.at_level(logging.ERROR, logger="registry.audit.sealing"):
        assert await _seal(own_app) > 0
    checkpoint = await own_app.pool.fetchrow("SELECT id, changed_rows FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
    assert checkpoint["changed_rows"] == [row_id]
    named = f"row {row_id} (exposure.query, member {lender.id})"
    assert any(named in record.getMessage() for record in caplog.records)

    report = await _verify(own_app)
    assert report["ok"] is False
    assert report["changed_rows"] == [
        {
            "id": row_id,
            "action": "exposure.query",
            "member_id": str(lender.id),
            "checkpoint": checkpoint["id"],
            "found": "at_sealing",
        }
    ]
    assert report["problems"] == [
        f"{named}: changed after it was written, before checkpoint {checkpoint['id']} sealed it"
    ]

    # Putting the content back does not erase what the signed checkpoint recorded.
    await _superuser_update(
        own_database,
        "UPDATE audit_log SET outcome = 200, details = details || '{\"refused_subjects\": 0}' WHERE id = $1",
        row_id,
    )
    report = await _verify(own_app)
    assert report["problems"] == [
        f"{named}: changed after it was written, before checkpoint {checkpoint['id']} sealed it "
        "(it matches its hash again)"
    ]


async def test_rows_edited_after_sealing_or_not_yet_sealed_are_named(own_app, own_database):
    http, registry = own_app.http, own_app.registry
    lender = await registry.member()
    r = await submit(http, lender, item(token(), "ACC-1"))
    assert r.status_code == 200, r.text
    submitted = r.headers["x-request-id"]
    await _seal(own_app)
    r = await http.post("/v1/exposure", json={"subjects": [token()], **QUERY}, headers=lender.headers)
    queried = r.headers["x-request-id"]
    assert (await _verify(own_app))["ok"] is True

    ids = {
        row["request_id"]: row["id"]
        for row in await own_app.pool.fetch(
            "SELECT id, request_id FROM audit_log WHERE request_id = ANY($1)", [submitted, queried]
        )
    }
    # The sealed write is blamed on no one; the unsealed query's purpose is rewritten.
    await _superuser_update(own_database, "UPDATE audit_log SET member_id = NULL WHERE id = $1", ids[submitted])
    await _superuser_update(
        own_database,
        'UPDATE audit_log SET details = details || \'{"purpose": "collection"}\' WHERE id = $1',
        ids[queried],
    )
    report = await _verify(own_app)
    assert report["ok"] is False
    found = {row["id"]: (row["action"], row["member_id"], row["found"]) for row in report["changed_rows"]}
    assert found == {
        ids[submitted]: ("records.submit", None, "after_sealing"),
        ids[queried]: ("exposure.query", str(lender.id), "unsealed"),
    }
    assert f"row {ids[submitted]} (records.submit, no member): changed after checkpoint" in " ".join(report["problems"])
