"""Reporting records: per-item outcomes, validation, idempotency, reading and withdrawing
one's own records, and never another member's."""

import hashlib
import hmac
import uuid

import pytest

from tests.factories import item, submit, token


async def test_outcomes_created_unchanged_updated_stale(http, registry):
    bank = await registry.member()
    subject = token()
    first = item(subject, "A-1", as_of="2026-10-31")
    r = await submit(http, bank, first)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["results"][0]["outcome"] == "created" and body["summary"]["created"] == 1
    record_id = body["results"][0]["record_id"]

    again = (await submit(http, bank, first)).json()
    assert again["results"][0] == {
        "index": 0,
        "account_ref": "A-1",
        "outcome": "unchanged",
        "record_id": record_id,
        "errors": [],
    }

    newer = item(subject, "A-1", as_of="2026-11-15", status="dpd_1_30", overdue_amount="500.00")
    assert (await submit(http, bank, newer)).json()["results"][0]["outcome"] == "updated"

    older = item(subject, "A-1", as_of="2026-10-01", status="written_off")
    stale = (await submit(http, bank, older)).json()
    assert stale["results"][0]["outcome"] == "stale" and stale["summary"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "stale": 1,
        "rejected": 0,
    }

    correction = item(subject, "A-1", as_of="2026-11-15", status="dpd_1_30", overdue_amount="450.00")
    assert (await submit(http, bank, correction)).json()["results"][0]["outcome"] == "updated"

    events = await registry.pool.fetch(
        "SELECT kind, version, status FROM record_events WHERE record_id = $1 ORDER BY id", uuid.UUID(record_id)
    )
    assert [(e["kind"], e["version"]) for e in events] == [("created", 1), ("updated", 2), ("updated", 3)]
    stored = await registry.pool.fetchrow(
        "SELECT status, overdue_minor, version FROM records WHERE id = $1", uuid.UUID(record_id)
    )
    assert (stored["status"], stored["overdue_minor"], stored["version"]) == ("dpd_1_30", 45000, 3)


async def test_mixed_batch_applies_good_items_and_explains_bad_ones(http, registry):
    bank = await registry.member()
    s = token()
    r = await submit(
        http,
        bank,
        item(s, "GOOD-1"),
        item(s, "BAD-1", status="dpd_31_60", notice_sent_on=None),
        item(s, "GOOD-2", product="auto_loan"),
        item(s, "BAD-2", overdue_amount="9000.00"),
    )
    body = r.json()
    assert [x["outcome"] for x in body["results"]] == ["created", "rejected", "created", "rejected"]
    assert body["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 2}
    assert body["results"][1]["errors"][0]["field"] == "notice_sent_on"
    assert "notified" in body["results"][1]["errors"][0]["message"]
    assert body["results"][3]["errors"] == [
        {"field": "overdue_amount", "message": "must not exceed outstanding_amount"}
    ]
    assert body["results"][1]["record_id"] is None
    count = await registry.pool.fetchval("SELECT count(*) FROM records WHERE member_id = $1", bank.id)
    assert count == 2


@pytest.mark.parametrize(
    "override, field",
    [
        ({"subject": "xyz"}, "subject"),
        ({"subject": "g" * 64}, "subject"),
        ({"subject": "a" * 63}, "subject"),
        ({"subject_type": "company"}, "subject_type"),
        ({"account_ref": ""}, "account_ref"),
        ({"account_ref": "has space"}, "account_ref"),
        ({"account_ref": "x" * 65}, "account_ref"),
        ({"product": "pawn"}, "product"),
        ({"status": "late"}, "status"),
        ({"collection_stage": "begging"}, "collection_stage"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "CN"}, "currency"),
        ({"principal_amount": "-1"}, "principal_amount"),
        ({"principal_amount": "1.001"}, "principal_amount"),
        ({"principal_amount": "abc"}, "principal_amount"),
        ({"principal_amount": "NaN"}, "principal_amount"),
        ({"principal_amount": "1e30"}, "principal_amount"),
        ({"principal_amount": "1E+999999"}, "principal_amount"),
        ({"principal_amount": "1E-999999"}, "principal_amount"),
        (
            {
                "currency": "JPY",
                "principal_amount": "9223372036854775808",
                "outstanding_amount": "1",
                "overdue_amount": "0",
            },
            "principal_amount",
        ),
        (
            {"currency": "JPY", "principal_amount": "100.5", "outstanding_amount": "1", "overdue_amount": "0"},
            "principal_amount",
        ),
        ({"overdue_amount": "8000.01"}, "overdue_amount"),
        ({"as_of": "2099-01-01"}, "as_of"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"opened_on": "2026-11-01", "as_of": "2026-10-31"}, "opened_on"),
        ({"status": "dpd_61_90", "delinquent_since": None}, "delinquent_since"),
        ({"status": "written_off", "notice_sent_on": None}, "notice_sent_on"),
        ({"status": "dpd_1_30", "delinquent_since": "2026-11-01", "as_of": "2026-10-31"}, "delinquent_since"),
        ({"status": "dpd_1_30", "notice_sent_on": "2026-11-05", "as_of": "2026-10-31"}, "notice_sent_on"),
        ({"nickname": "x"}, "nickname"),
        ({"as_of": None}, "as_of"),
        ({"account_ref": 12}, "account_ref"),
    ],
)
async def test_invalid_items_are_rejected_with_the_field(http, registry, override, field):
    bank = await registry.member()
    fields = dict(override)
    r = await submit(http, bank, item(fields.pop("subject", token()), **fields))
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["outcome"] == "rejected"
    assert field in [e["field"] for e in result["errors"]], result["errors"]


async def test_amounts_as_numbers_and_strings(http, registry):
    bank = await registry.member()
    r = await submit(
        http,
        bank,
        item(token(), "N-1", principal_amount=1000, outstanding_amount=999.5, overdue_amount="0.10"),
        item(token(), "N-2", currency="jpy", principal_amount="5000", outstanding_amount=4000, overdue_amount=0),
        item(
            token(), "N-3", currency="KWD", principal_amount="1.234", outstanding_amount="1.234", overdue_amount="0.001"
        ),
    )
    assert [x["outcome"] for x in r.json()["results"]] == ["created"] * 3, r.text
    listed = {rec["account_ref"]: rec for rec in (await http.get("/v1/records", headers=bank.headers)).json()["data"]}
    assert (listed["N-1"]["outstanding_amount"], listed["N-1"]["overdue_amount"]) == ("999.50", "0.10")
    assert (listed["N-2"]["currency"], listed["N-2"]["principal_amount"]) == ("JPY", "5000")
    assert listed["N-3"]["overdue_amount"] == "0.001"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"records": "nope"},
        {"records": []},
        {"records": [{}] * 1001},
        {"items": []},
        {"records": [], "extra": 1},
    ],
)
async def test_structurally_bad_bodies_are_422_and_write_nothing(http, registry, body):
    bank = await registry.member()
    r = await http.post("/v1/records", json=body, headers=bank.headers)
    assert r.status_code == 422, r.text
    assert await registry.pool.fetchval("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 0


async def test_duplicate_account_ref_in_a_batch_writes_nothing(http, registry):
    bank = await registry.member()
    s = token()
    r = await submit(http, bank, item(s, "D-1"), item(s, "OK-1"), item(s, "D-1", status="settled"))
    assert r.status_code == 422
    assert "D-1" in r.json()["errors"][0]["message"]
    assert await registry.pool.fetchval("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 0


async def test_non_object_item_is_rejected_alone(http, registry):
    bank = await registry.member()
    r = await submit(http, bank, item(token(), "OK-1"), "not an object", 42)
    assert [x["outcome"] for x in r.json()["results"]] == ["created", "rejected", "rejected"]


async def test_idempotency_key_replays_and_refuses_another_body(http, registry):
    bank = await registry.member()
    s = token()
    batch = {"records": [item(s, "I-1"), item(s, "I-2")]}
    headers = {**bank.headers, "Idempotency-Key": "batch-2026-11-28-001"}
    first = await http.post("/v1/records", json=batch, headers=headers)
    events_after_first = await registry.pool.fetchval(
        "SELECT count(*) FROM record_events WHERE member_id = $1", bank.id
    )
    second = await http.post("/v1/records", json=batch, headers=headers)
    assert second.status_code == 200 and second.json() == first.json()
    assert [x["outcome"] for x in second.json()["results"]] == ["created", "created"]
    assert (
        await registry.pool.fetchval("SELECT count(*) FROM record_events WHERE member_id = $1", bank.id)
        == events_after_first
    )

    other = {"records": [item(s, "I-3")]}
    conflict = await http.post("/v1/records", json=other, headers=headers)
    assert conflict.status_code == 422 and conflict.json()["errors"][0]["field"] == "Idempotency-Key"

    # Keys are scoped per member: another member may use the same key.
    other_bank = await registry.member()
    r = await http.post(
        "/v1/records", json=other, headers={**other_bank.headers, "Idempotency-Key": "batch-2026-11-28-001"}
    )
    assert r.json()["results"][0]["outcome"] == "created"

    bad = await http.post("/v1/records", json=other, headers={**bank.headers, "Idempotency-Key": "has space"})
    assert bad.status_code == 422


async def test_the_token_is_never_stored(http, registry, app):
    bank = await registry.member()
    s = token()
    r = await submit(http, bank, item(s.upper(), "T-1"))
    record_id = uuid.UUID(r.json()["results"][0]["record_id"])
    row = await registry.pool.fetchrow("SELECT * FROM records WHERE id = $1", record_id)
    expected = hmac.new(app.state.runtime.keys.server_key, bytes.fromhex(s), hashlib.sha256).digest()
    assert row["subject_key"] == expected
    dump = str(dict(row)) + str(
        await registry.pool.fetch("SELECT * FROM record_events WHERE record_id = $1", record_id)
    )
    assert s not in dump.lower() and bytes.fromhex(s).hex() not in dump


@pytest.mark.parametrize(
    "reports, expires_on",
    [
        ([{"status": "current"}], None),
        ([{"status": "current", "closed_on": "2026-06-30"}], "2031-06-30"),
        ([{"status": "dpd_31_60"}], None),
        ([{"status": "dpd_31_60", "as_of": "2026-10-01"}, {"status": "current", "as_of": "2026-10-31"}], "2031-10-31"),
        (
            [
                {"status": "dpd_31_60", "as_of": "2026-10-01"},
                {"status": "settled", "as_of": "2026-10-20", "closed_on": "2026-10-15"},
            ],
            "2031-10-15",
        ),
        ([{"status": "written_off", "closed_on": "2026-10-30"}], "2031-10-30"),
        ([{"status": "settled", "delinquent_since": "2025-01-01", "as_of": "2026-10-31"}], "2031-10-31"),
        (
            [
                {"status": "dpd_1_30", "as_of": "2026-10-01"},
                {"status": "current", "as_of": "2026-10-15"},
                {"status": "current", "as_of": "2026-10-31", "closed_on": "2026-10-31"},
            ],
            "2031-10-15",
        ),
        (
            [
                {"status": "dpd_1_30", "as_of": "2026-10-01"},
                {"status": "current", "as_of": "2026-10-15"},
                {"status": "dpd_31_60", "as_of": "2026-10-31"},
            ],
            None,
        ),
    ],
)
async def test_expiry_five_years_after_the_delinquency_ends(http, registry, reports, expires_on):
    bank = await registry.member()
    s = token()
    for report in reports:
        r = await submit(http, bank, item(s, "E-1", **report))
        assert r.json()["results"][0]["outcome"] in ("created", "updated"), r.text
    stored = await registry.pool.fetchval("SELECT expires_on FROM records WHERE member_id = $1", bank.id)
    assert (stored.isoformat() if stored else None) == expires_on


async def test_list_filter_page_get_and_withdraw_own_records(http, registry):
    bank = await registry.member()
    s1, s2 = token(), token()
    await submit(
        http,
        bank,
        item(s1, "L-1"),
        item(s1, "L-2", status="dpd_1_30", product="credit_card"),
        item(s2, "L-3"),
        item(s2, "L-4"),
    )
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await http.get("/v1/records", params=params, headers=bank.headers)).json()
        seen += [x["account_ref"] for x in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == ["L-1", "L-2", "L-3", "L-4"]
    by_subject = (await http.get("/v1/records", params={"subject": s1}, headers=bank.headers)).json()["data"]
    assert sorted(x["account_ref"] for x in by_subject) == ["L-1", "L-2"]
    assert all("subject" not in x and "subject_key" not in x for x in by_subject)
    filtered = (
        await http.get("/v1/records", params={"status": "dpd_1_30", "product": "credit_card"}, headers=bank.headers)
    ).json()
    assert [x["account_ref"] for x in filtered["data"]] == ["L-2"]
    assert (await http.get("/v1/records", params={"subject": "nothex"}, headers=bank.headers)).status_code == 422
    assert (await http.get("/v1/records", params={"status": "bogus"}, headers=bank.headers)).status_code == 422

    target = next(x for x in by_subject if x["account_ref"] == "L-2")
    detail = (await http.get(f"/v1/records/{target['id']}", headers=bank.headers)).json()
    assert detail["status"] == "dpd_1_30" and [e["kind"] for e in detail["events"]] == ["created"]

    withdrawn = await http.delete(f"/v1/records/{target['id']}", headers=bank.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    remaining = (await http.get("/v1/records", params={"subject": s1}, headers=bank.headers)).json()["data"]
    assert [x["account_ref"] for x in remaining] == ["L-1"]
    history = (await http.get(f"/v1/records/{target['id']}", headers=bank.headers)).json()
    assert [e["kind"] for e in history["events"]] == ["created", "withdrawn"]
    again = await http.delete(f"/v1/records/{target['id']}", headers=bank.headers)
    assert again.status_code == 200
    assert [
        e["kind"] for e in (await http.get(f"/v1/records/{target['id']}", headers=bank.headers)).json()["events"]
    ] == ["created", "withdrawn"]


async def test_another_members_record_is_404_like_a_missing_one(http, registry):
    owner, other = await registry.member(), await registry.member()
    r = await submit(http, owner, item(token(), "X-1"))
    record_id = r.json()["results"][0]["record_id"]
    for method in ("GET", "DELETE"):
        theirs = await http.request(method, f"/v1/records/{record_id}", headers=other.headers)
        missing = await http.request(method, f"/v1/records/{uuid.uuid4()}", headers=other.headers)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["detail"] == missing.json()["detail"]
    assert (await http.get("/v1/records", headers=other.headers)).json()["data"] == []
    # The owner's record is untouched by the other's attempt to withdraw it.
    assert (await http.get(f"/v1/records/{record_id}", headers=owner.headers)).json()["withdrawn_at"] is None


async def test_a_member_can_update_only_its_own_account_refs(http, registry):
    a, b = await registry.member(), await registry.member()
    s = token()
    await submit(http, a, item(s, "SHARED-REF", status="current"))
    r = await submit(http, b, item(s, "SHARED-REF", status="written_off", as_of="2026-11-20"))
    assert r.json()["results"][0]["outcome"] == "created"
    a_row = await registry.pool.fetchrow("SELECT status, version FROM records WHERE member_id = $1", a.id)
    assert (a_row["status"], a_row["version"]) == ("current", 1)


async def test_scopes_and_audit(http, registry):
    bank = await registry.member(scopes=["records:read"])
    r = await submit(http, bank, item(token()))
    assert r.status_code == 403
    writer = await registry.member(scopes=["records:write"])
    assert (await http.get("/v1/records", headers=writer.headers)).status_code == 403
    r = await submit(http, writer, item(token(), "AU-1"), item("bad", "AU-2"))
    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["action"] == "records.submit" and rows[0]["outcome"] == 200
    assert rows[0]["details"] == {"created": 1, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 1}


async def test_new_records_take_time_ordered_ids(http, registry):
    """Ids are UUIDv7 (migration 0009): a bulk load appends to the indexes holding them."""
    bank = await registry.member()
    first = (await submit(http, bank, item(token(), "ORDER-1"))).json()["results"][0]["record_id"]
    second = (await submit(http, bank, item(token(), "ORDER-2"))).json()["results"][0]["record_id"]
    ids = [uuid.UUID(first), uuid.UUID(second)]
    assert [i.version for i in ids] == [7, 7]
    assert all(i.variant == uuid.RFC_4122 for i in ids)
    assert ids[0] < ids[1]
    stored = await registry.pool.fetchval("SELECT created_at FROM records WHERE id = $1", ids[0])
    assert abs(int.from_bytes(ids[0].bytes[:6], "big") / 1000 - stored.timestamp()) < 5
