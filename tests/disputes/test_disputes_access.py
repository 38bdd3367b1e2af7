"""Disputes from every side: what filing with a record_id covers, the owners' answers and their
validation, who sees which dispute (another member's is a 404), scopes, and the
`dispute_investigation` purpose that a filed dispute admits."""

import uuid
from datetime import UTC, datetime

import pytest

from tests.disputes.support import NOW, delinquent, exposure, file, filed
from tests.factories import item, submit, token


async def written(registry, world, *others) -> dict:
    """What disputes have written about the world's borrower and members: the disputes they
    filed, the covered records' answers and flags, the disputes' history."""
    members = [world[k].id for k in ("a", "b", "c", "d")] + [m.id for m in others]
    record_ids = [uuid.UUID(i) for i in world["ids"].values()]
    q = registry.pool.fetch
    disputes = await q(
        "SELECT id, status, records_covered, resolution FROM disputes WHERE filed_by = ANY($1) ORDER BY id", members
    )
    dispute_ids = [d["id"] for d in disputes]
    return {
        "disputes": [tuple(d) for d in disputes],
        "covered": [
            tuple(r)
            for r in await q(
                "SELECT dispute_id, record_id, action, note, outcome FROM dispute_records WHERE record_id = ANY($1) "
                "ORDER BY dispute_id, record_id",
                record_ids,
            )
        ],
        "events": [
            tuple(e)
            for e in await q(
                "SELECT dispute_id, kind, record_id FROM dispute_events WHERE dispute_id = ANY($1) ORDER BY id",
                dispute_ids,
            )
        ],
        "records": [
            tuple(r)
            for r in await q(
                "SELECT id, disputed, suppressed, version FROM records WHERE id = ANY($1) ORDER BY id", record_ids
            )
        ],
    }


async def respond(http, member, dispute_id, **body):
    return await http.post(f"/v1/disputes/{dispute_id}/response", json=body, headers=member.headers)


async def test_a_record_id_covers_that_record_only_and_must_be_the_callers(http, registry, world):
    s, ids = world["subject"], world["ids"]
    own = await file(http, world["a"], s, record_id=ids["A-1"], reason="wrong_amount")
    assert own.status_code == 202, own.text
    view = (await http.get(f"/v1/disputes/{own.json()['id']}", headers=world["a"].headers)).json()
    assert view["records"] == 1 and [c["account_ref"] for c in view["covered"]] == ["A-1"]
    # Another member's record is not the caller's to name: 404, nothing written.
    before = await written(registry, world)
    other = await file(http, world["a"], s, record_id=ids["B-1"])
    assert other.status_code == 404
    mismatch = await file(http, world["a"], token(), record_id=ids["A-1"])
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "subject"
    assert await written(registry, world) == before
    listed = await http.get("/v1/disputes", headers=world["a"].headers)
    assert [d["id"] for d in listed.json()["data"]] == [own.json()["id"]]
    # The association may name any record held about the subject.
    admin = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": s, "record_id": ids["C-2"], "reason": "not_mine", "statement": "Never had a card."},
    )
    assert admin.status_code == 201, admin.text
    assert [(c["account_ref"], c["institution"]["code"]) for c in admin.json()["covered"]] == [("C-2", world["c"].code)]


async def test_a_member_files_only_with_a_relationship_or_consent(http, registry, world):
    """A holds no record about a stranger: without the borrower's consent it may not file
    (403, nothing written); with it, the dispute is accepted and covers nothing."""
    stranger = token()
    r = await file(http, world["a"], stranger)
    assert r.status_code == 403 and [e["field"] for e in r.json()["errors"]] == ["consent_ref"]
    assert (await http.get("/v1/disputes", headers=world["a"].headers)).json()["data"] == []
    assert await registry.pool.fetchval("SELECT count(*) FROM disputes WHERE filed_by = $1", world["a"].id) == 0
    r = await file(http, world["a"], stranger, consent_ref="CONSENT-D-1")
    assert r.status_code == 202
    view = (await http.get(f"/v1/disputes/{r.json()['id']}", headers=world["a"].headers)).json()
    assert (view["records"], view["covered"]) == (0, [])
    rows = await registry.audit_rows(action="disputes.file", resource=f"dispute:{r.json()['id']}")
    assert [x["details"]["consent_ref"] for x in rows] == ["CONSENT-D-1"]
    # The association still gets a plain answer when there is nothing to dispute.
    filed_by_admin = "SELECT count(*) FROM disputes WHERE filed_by = $1"
    before = await registry.pool.fetchval(filed_by_admin, registry.admin.member_id)
    admin = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": stranger, "reason": "other", "statement": "s"},
    )
    assert admin.status_code == 422 and admin.json()["errors"][0]["field"] == "subject"
    assert await registry.pool.fetchval(filed_by_admin, registry.admin.member_id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "because"},
        {"statement": ""},
        {"statement": "x" * 2001},
        {"subject": "not-a-token"},
        {"extra": 1},
        {"statement": "nul\u0000"},
    ],
)
async def test_bad_filings_are_problems(http, registry, world, body):
    before = await written(registry, world)
    payload = {"subject": world["subject"], "reason": "other", "statement": "s", **body}
    r = await http.post("/v1/disputes", json=payload, headers=world["a"].headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert await written(registry, world) == before


async def test_owner_answers_are_validated(http, registry, world):
    s, ids = world["subject"], world["ids"]
    dispute = await filed(http, world)
    did = dispute["id"]
    before = await written(registry, world)
    good = item(s, "B-1", status="current", as_of="2026-11-28")
    cases = [
        ({"record_id": ids["B-1"], "action": "correct", "note": "n"}, "body"),  # correction missing
        ({"record_id": ids["B-1"], "action": "confirm", "note": "n", "correction": good}, "body"),
        ({"record_id": ids["B-1"], "action": "confirm", "note": ""}, "note"),
        ({"record_id": ids["C-1"], "action": "confirm", "note": "n"}, "record_id"),  # C's record
        (
            {"record_id": ids["B-1"], "action": "correct", "note": "n", "correction": {**good, "account_ref": "B-9"}},
            "correction.account_ref",
        ),
        (
            {"record_id": ids["B-1"], "action": "correct", "note": "n", "correction": {**good, "subject": token()}},
            "correction.subject",
        ),
        (
            {"record_id": ids["B-1"], "action": "correct", "note": "n", "correction": {**good, "as_of": "2026-10-30"}},
            "correction.as_of",
        ),
        (
            {"record_id": ids["B-1"], "action": "correct", "note": "n", "correction": {**good, "status": "bogus"}},
            "correction.status",
        ),
    ]
    for body, field in cases:
        r = await respond(http, world["b"], did, **body)
        assert r.status_code == 422, (body, r.text)
        fields = [e["field"] for e in r.json()["errors"]]
        assert any(f.startswith(field) for f in fields) or field == "body", (field, fields)
    view = (await http.get(f"/v1/disputes/{did}", headers=world["b"].headers)).json()
    assert view["covered"][0]["response"] is None and [e["kind"] for e in view["history"]] == ["filed"]
    # The filer holds no covered record: nothing to answer for.
    r = await respond(http, world["a"], did, record_id=ids["A-1"], action="confirm", note="n")
    assert r.status_code == 422
    assert await written(registry, world) == before


async def test_each_member_sees_only_its_part_and_others_get_404(http, registry, world):
    s, ids = world["subject"], world["ids"]
    dispute = await filed(http, world)
    did = dispute["id"]
    assert (
        await respond(http, world["b"], did, record_id=ids["B-1"], action="confirm", note="B checked")
    ).status_code == 200
    assert (
        await respond(http, world["c"], did, record_id=ids["C-1"], action="confirm", note="C checked")
    ).status_code == 200

    b_view = (await http.get(f"/v1/disputes/{did}", headers=world["b"].headers)).json()
    assert [c["account_ref"] for c in b_view["covered"]] == ["B-1"]
    assert b_view["filed_by"] is None and b_view["filed_by_you"] is False
    assert [(e["kind"], e["record_id"]) for e in b_view["history"]] == [("filed", None), ("response", ids["B-1"])]
    assert all(e["institution"] is None for e in b_view["history"])
    a_view = (await http.get(f"/v1/disputes/{did}", headers=world["a"].headers)).json()
    assert a_view["covered"] == [] and [e["kind"] for e in a_view["history"]] == ["filed"]

    # D is neither the filer nor an owner: the dispute does not exist for it.
    d = world["d"]
    before = await written(registry, world)
    assert (await http.get(f"/v1/disputes/{did}", headers=d.headers)).status_code == 404
    assert did not in [x["id"] for x in (await http.get("/v1/disputes", headers=d.headers)).json()["data"]]
    assert (
        await respond(
            http,
            d,
            did,
            record_id=ids["B-1"],
            action="correct",
            note="n",
            correction=item(s, "B-1", as_of="2026-11-28"),
        )
    ).status_code == 404
    assert await written(registry, world) == before
    assert (await http.get("/v1/disputes/00000000-0000-0000-0000-000000000000", headers=d.headers)).status_code == 404

    admin_view = (await http.get(f"/admin/disputes/{did}", headers=registry.admin.headers)).json()
    assert admin_view["filed_by"]["code"] == world["a"].code
    assert {c["institution"]["code"] for c in admin_view["covered"]} == {world["b"].code, world["c"].code}
    assert [e["kind"] for e in admin_view["history"]] == ["filed", "response", "response"]
    for member in (world["a"], world["b"], world["c"]):
        listed = (await http.get("/v1/disputes", headers=member.headers)).json()["data"]
        assert [x["id"] for x in listed] == [did]


async def test_scopes(http, registry, world):
    s = world["subject"]
    reader = await registry.member(scopes=["records:read", "exposure:read"])
    before = await written(registry, world, reader)
    assert (await file(http, reader, s)).status_code == 403
    assert (await http.get("/v1/disputes", headers=reader.headers)).status_code == 403
    assert (await http.get("/admin/disputes", headers=world["a"].headers)).status_code == 403
    r = await http.patch(
        "/admin/disputes/00000000-0000-0000-0000-000000000000",
        headers=world["a"].headers,
        json={"resolution": "upheld", "note": "n"},
    )
    assert r.status_code == 403
    r = await http.patch(
        "/admin/disputes/00000000-0000-0000-0000-000000000000",
        headers=registry.admin.headers,
        json={"resolution": "upheld", "note": "n"},
    )
    assert r.status_code == 404
    assert (await http.get("/v1/disputes")).status_code == 401
    assert await written(registry, world, reader) == before


async def test_a_filed_dispute_admits_dispute_investigation_for_the_filer_only(http, registry, world):
    s = world["subject"]
    helper = await registry.member()  # files for the borrower with its consent, holds no record
    refused = await exposure(http, helper, s, purpose="dispute_investigation")
    assert refused.status_code == 403
    assert (await file(http, helper, s, consent_ref="CONSENT-H")).status_code == 202
    allowed = await exposure(http, helper, s, purpose="dispute_investigation")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["results"][0]["disputed"] is True
    assert (await exposure(http, world["d"], s, purpose="dispute_investigation")).status_code == 403
    # Other purposes still need a record.
    assert (await exposure(http, helper, s, purpose="account_review")).status_code == 403


async def test_admin_list_pages_with_a_cursor(http, registry, clock):
    member = await registry.member()
    s = token()
    await submit(http, member, delinquent(s, "P-1"))
    ids = []
    for day in range(3):
        clock.set(datetime(2026, 11, 1 + day, tzinfo=UTC))
        ids.append((await file(http, member, s)).json()["id"])
    clock.set(NOW)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/v1/disputes", params=params, headers=member.headers)).json()
        seen += [d["id"] for d in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert (
        await http.get("/admin/disputes", params={"cursor": "garbage"}, headers=registry.admin.headers)
    ).status_code == 422


async def test_filing_is_retry_safe(http, registry):
    from tests.factories import item, submit, token

    lender, other = await registry.member(), await registry.member()
    s = token()
    await submit(http, other, item(s, "IDEM-1", status="dpd_31_60"))
    body = {"subject": s, "reason": "not_mine", "statement": "Never borrowed there.", "consent_ref": "CONSENT-I"}
    headers = {**lender.headers, "Idempotency-Key": f"dispute-{lender.code}"}
    first = await http.post("/v1/disputes", json=body, headers=headers)
    again = await http.post("/v1/disputes", json=body, headers=headers)
    assert first.status_code == 202 and again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert await registry.pool.fetchval("SELECT count(*) FROM disputes WHERE filed_by = $1", lender.id) == 1
    other_body = await http.post("/v1/disputes", json={**body, "reason": "other"}, headers=headers)
    assert other_body.status_code == 422
