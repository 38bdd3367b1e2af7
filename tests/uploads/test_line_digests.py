"""Lines an upload already holds byte for byte are known by their digest and counted
unchanged without being validated again (registry/uploads/line_digests.py); the file's
order, later changes by other paths, withdrawal and other members still decide as before."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import pytest

from registry.core.db import connect, with_user
from registry.core.tenancy import ContextProver, Member
from registry.records import validation
from registry.uploads import line_digests
from registry.uploads import lines as upload_lines
from registry.uploads import repository as upload_repository
from registry.uploads import service as upload_service
from tests.factories import item, submit, token
from tests.uploads.test_uploads import COLUMNS, CSV, NDJSON, counts, csv_file, ndjson, post


@pytest.fixture
def validated(monkeypatch) -> list[Any]:
    """The account_ref of every line the upload validated, in order."""
    seen: list[Any] = []
    real = upload_service.validate_item

    def counting(index: int, raw: Any, *args: Any) -> Any:
        seen.append(raw.get("account_ref") if isinstance(raw, dict) else None)
        return real(index, raw, *args)

    monkeypatch.setattr(upload_service, "validate_item", counting)
    return seen


async def digests(registry, member) -> dict[str, bytes | None]:
    rows = await registry.pool.fetch("SELECT account_ref, line_digest FROM records WHERE member_id = $1", member.id)
    return {r["account_ref"]: r["line_digest"] for r in rows}


async def test_a_reupload_validates_no_line_it_already_holds(http, registry, validated):
    member = await registry.member()
    subject = token()
    body = ndjson(*[item(subject, f"DG-{n}") for n in range(5)])
    first = (await post(http, member, body, NDJSON)).json()
    assert counts(first)["created"] == 5 and validated == [f"DG-{n}" for n in range(5)]
    stored = await digests(registry, member)
    assert all(d is not None and len(d) == line_digests.DIGEST_BYTES for d in stored.values())
    assert len(set(stored.values())) == 5

    validated.clear()
    again = (await post(http, member, body, NDJSON)).json()
    assert counts(again) == {"created": 0, "updated": 0, "unchanged": 5, "stale": 0, "rejected": 0}
    assert validated == []
    assert again["processed_lines"] == 5 and again["total_lines"] == 5


@pytest.mark.parametrize("batch_lines", [2, 1000], ids=["across-batches", "one-batch"])
async def test_the_file_order_decides_over_a_known_digest(http, registry, validated, monkeypatch, batch_lines):
    """A line the registry holds, after a line of the same file that changes its account,
    is read and applied in its turn: the lookup ran before the change committed."""
    monkeypatch.setattr(upload_service, "CHUNK_LINES", 3)
    monkeypatch.setattr(upload_lines, "MAX_BATCH_LINES", batch_lines)
    member = await registry.member()
    subject = token()
    original = item(subject, "ORDER-1", outstanding_amount="8000.00")
    await post(http, member, ndjson(original), NDJSON)
    changed = {**original, "outstanding_amount": "7000.00"}  # same as_of: an update
    fillers = [item(subject, f"ORDER-F{n}") for n in range(10)]  # several chunks commit meanwhile
    job = (await post(http, member, ndjson(changed, *fillers, original), NDJSON)).json()
    assert counts(job) == {"created": 10, "updated": 2, "unchanged": 0, "stale": 0, "rejected": 0}
    assert validated.count("ORDER-1") == 3  # the first upload's, and both lines of the second
    listed = (await http.get("/v1/records", headers=member.headers, params={"subject": subject})).json()["data"]
    [record] = [r for r in listed if r["account_ref"] == "ORDER-1"]
    assert record["outstanding_amount"] == "8000.00" and record["version"] == 3


async def test_a_change_by_another_path_makes_the_old_line_a_change_again(http, registry, validated):
    member = await registry.member()
    subject = token()
    line = item(subject, "API-1")
    await post(http, member, ndjson(line), NDJSON)
    assert (await digests(registry, member))["API-1"] is not None
    response = await submit(http, member, {**line, "outstanding_amount": "100.00"})
    assert response.json()["summary"]["updated"] == 1
    assert (await digests(registry, member))["API-1"] is None

    validated.clear()
    job = (await post(http, member, ndjson(line), NDJSON)).json()
    assert counts(job)["updated"] == 1 and validated == ["API-1"]


async def test_the_digest_follows_the_content_whatever_writes_it(registry, http, app_conn, prover):
    """Any statement that changes a record's content without writing a digest clears it."""
    member = await registry.member()
    await post(http, member, ndjson(item(token(), "SQL-1")), NDJSON)
    async with app_conn.transaction():
        await prover.enter(app_conn, Member(member.id), "test")
        await app_conn.execute("UPDATE records SET version = version + 1 WHERE account_ref = 'SQL-1'")
        assert await app_conn.fetchval("SELECT line_digest FROM records WHERE account_ref = 'SQL-1'") is not None
        await app_conn.execute("UPDATE records SET content_hash = sha256('other') WHERE account_ref = 'SQL-1'")
        assert await app_conn.fetchval("SELECT line_digest FROM records WHERE account_ref = 'SQL-1'") is None


async def test_another_members_identical_line_is_its_own(http, registry, validated):
    first, second = await registry.member(), await registry.member()
    body = ndjson(item(token(), "SAME-1"))
    assert counts((await post(http, first, body, NDJSON)).json())["created"] == 1
    validated.clear()
    assert counts((await post(http, second, body, NDJSON)).json())["created"] == 1
    assert validated == ["SAME-1"]


async def test_new_bytes_for_the_same_content_leave_their_digest_for_next_time(http, registry, validated):
    member = await registry.member()
    subject = token()
    items = [item(subject, f"COL-{n}") for n in range(3)]
    await post(http, member, csv_file(items), CSV)
    reordered = csv_file(items, columns=list(reversed(COLUMNS)))
    validated.clear()
    second = (await post(http, member, reordered, CSV)).json()
    assert counts(second)["unchanged"] == 3 and len(validated) == 3  # other bytes: read, found the same
    validated.clear()
    third = (await post(http, member, reordered, CSV)).json()
    assert counts(third)["unchanged"] == 3 and validated == []


async def test_a_withdrawn_record_is_not_held(http, registry, validated):
    member = await registry.member()
    subject = token()
    line = item(subject, "WD-1")
    await post(http, member, ndjson(line), NDJSON)
    [record] = (await http.get("/v1/records", headers=member.headers, params={"subject": subject})).json()["data"]
    assert (await http.delete(f"/v1/records/{record['id']}", headers=member.headers)).status_code == 200
    validated.clear()
    job = (await post(http, member, ndjson(line), NDJSON)).json()
    assert counts(job)["updated"] == 1 and validated == ["WD-1"]


async def test_without_a_free_connection_every_line_is_read(http, registry, validated, monkeypatch):
    """The lookup never waits on a busy pool: it gives up at once and the lines are read."""
    member = await registry.member()
    body = ndjson(*[item(token(), f"BUSY-{n}") for n in range(3)])
    await post(http, member, body, NDJSON)

    class Busy:
        def acquire(self, timeout: float | None = None):
            raise TimeoutError

    original = upload_service._Loader.__init__

    def busy_pool(self, conn, pool, *args, **kwargs):
        original(self, conn, Busy(), *args, **kwargs)

    monkeypatch.setattr(upload_service._Loader, "__init__", busy_pool)
    validated.clear()
    job = (await post(http, member, body, NDJSON)).json()
    assert counts(job)["unchanged"] == 3 and len(validated) == 3


def test_the_rules_edition_pins_what_it_makes_of_a_line():
    """A line's digest stands for what this edition of the rules makes of it. When this
    fails, the rules or the snapshot changed: raise RULES_EDITION, then update the pin."""
    raw = {
        "subject": "ab" * 32,
        "subject_type": "individual",
        "account_ref": "PIN-1",
        "product": "auto_loan",
        "status": "dpd_31_60",
        "currency": "CNY",
        "principal_amount": "100000.00",
        "outstanding_amount": "80000.50",
        "overdue_amount": "1200",
        "opened_on": "2024-01-10",
        "delinquent_since": "2026-09-01",
        "notice_sent_on": "2026-09-15",
        "as_of": "2026-10-31",
        "parties": [{"subject": "cd" * 32, "subject_type": "enterprise", "role": "guarantor"}],
        "collateral": {"kind": "vehicle", "token": "ef" * 32},
    }
    checked = validation.validate_item(1, raw, b"k" * 32, date(2026, 11, 1))
    assert not isinstance(checked, list), checked
    assert (validation.RULES_EDITION, checked.content_hash.hex()) == (
        1,
        "bfba923706ba7f109a7bd5a801e075eeaac4f198e3b74eb31a6674edc2733375",
    )


def test_the_digest_key_binds_the_server_key_the_rules_and_the_columns():
    key = b"s" * 32
    keys = {
        line_digests.line_key(key, None),
        line_digests.line_key(b"t" * 32, None),
        line_digests.line_key(key, ["a", "b"]),
        line_digests.line_key(key, ["b", "a"]),
    }
    assert len(keys) == 4
    line = b'{"account_ref": "X"}'
    assert line_digests.line_digest(line_digests.line_key(key, None), line) != line_digests.line_digest(
        line_digests.line_key(b"t" * 32, None), line
    )


async def test_the_lookups_probe_the_unique_index_even_after_plans_made_on_an_empty_table(own_database):
    """While `records` is empty the planner costs its two indexes on member_id alike; a plan
    cached then would read all of the member's records for every line of the upload. The
    lookups plan afresh each time, whatever the session's plan cache would do."""
    owner = await asyncpg.connect(own_database)
    app = await connect(with_user(own_database, "registry_app"))
    try:
        member_id = await owner.fetchval(
            "INSERT INTO members (code, name, kind) VALUES ('PLAN', 'p', 'bank') RETURNING id"
        )
        prover = ContextProver(bytes(await owner.fetchval("SELECT key FROM registry_context_key")))
        call = f"held('{member_id}', ARRAY['A-1', 'A-2'], ARRAY['\\x00'::bytea, '\\x01'::bytea])"

        async def pinned(statement: str) -> str:
            async with app.transaction():
                await prover.enter(app, Member(member_id), "test")
                await app.execute(f"SELECT {upload_repository._PLANNER_OFF}")
                return "\n".join(row[0] for row in await app.fetch(statement))

        # PostgreSQL may cache a generic plan after five executions; this session always would.
        await app.execute("SET plan_cache_mode = force_generic_plan")
        await app.execute(f"PREPARE held(uuid, text[], bytea[]) AS {upload_repository._HELD_LINES}")
        for _ in range(3):
            await pinned(f"EXECUTE {call}")
        await owner.execute(
            """INSERT INTO records (member_id, account_ref, subject_key, subject_type, product, status,
                   collection_stage, currency, principal_minor, outstanding_minor, overdue_minor, as_of, content_hash)
               SELECT $1, 'A-' || g, sha256(int8send(g)), 'individual', 'consumer_loan', 'current', 'none', 'CNY',
                      1, 1, 0, date '2026-10-31', sha256(int8send(g))
               FROM generate_series(1, 20000) g""",
            member_id,
        )
        plan = await pinned(f"EXPLAIN EXECUTE {call}")
        assert "uq_records_member_id_account_ref" in plan, plan
    finally:
        await app.close()
        await owner.close()


@pytest.mark.parametrize("ref", ["A\x00B", "x" * 65, "", "A B", "账户-1", 17, None])
def test_only_an_account_ref_that_could_be_valid_is_looked_up(ref):
    assert line_digests.lookup_ref({"account_ref": ref}) is None
    assert line_digests.lookup_ref({"account_ref": "LN-2024:000187_a.b"}) == "LN-2024:000187_a.b"
