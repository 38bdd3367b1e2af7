"""A lender's correction names only the fields that change: the stored record with those
changes is checked by the same rules as any report, a merge that breaks one is a 422 naming the
field, and one lender's correction is seen by no other lender."""

from datetime import timedelta

import pytest

from tests.disputes.support import NOW, filed, record_of, resolve
from tests.factories import item, submit, token

SETTLED = {
    "status": "settled",
    "outstanding_amount": "0",
    "overdue_amount": "0",
    "closed_on": "2026-08-20",
    "as_of": "2026-11-28",
}


async def respond(http, member, dispute_id, record_id, correction, action="correct"):
    body = {"record_id": record_id, "action": action, "note": "Paid on 20 August", "correction": correction}
    return await http.post(f"/v1/disputes/{dispute_id}/response", json=body, headers=member.headers)


async def test_a_partial_correction_changes_those_fields_and_keeps_the_rest(http, registry, world, clock):
    b, ids = world["b"], world["ids"]
    before = await record_of(http, b, ids["B-1"])
    dispute = await filed(http, world)
    clock.set(NOW + timedelta(days=1))
    r = await respond(http, b, dispute["id"], ids["B-1"], SETTLED)
    assert r.status_code == 200, r.text
    [mine] = r.json()["covered"]
    # The whole corrected record is kept with the answer, for the association to read.
    assert mine["correction"]["status"] == "settled" and mine["correction"]["product"] == before["product"]
    assert mine["correction"]["principal_amount"] == before["principal_amount"]
    assert "subject" not in mine["correction"]

    r = await resolve(http, registry, dispute["id"], "upheld")
    assert r.status_code == 200, r.text
    assert {c["account_ref"]: c["outcome"] for c in r.json()["covered"]} == {"B-1": "corrected", "C-1": "suppressed"}
    after = await record_of(http, b, ids["B-1"])
    changed = {"status", "outstanding_amount", "overdue_amount", "closed_on", "as_of", "version", "disputed"}
    changed |= {"updated_at", "expires_on", "uncollected", "events", "delinquency_ended_on", "days_past_due"}
    assert (after["status"], after["closed_on"], after["outstanding_amount"], after["version"]) == (
        "settled",
        "2026-08-20",
        "0.00",
        2,
    )
    for field in set(before) - changed:
        assert after[field] == before[field], field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"overdue_amount": "9000"}, "correction.overdue_amount"),  # more than the stored outstanding 8000
        ({"delinquent_since": None}, "correction.delinquent_since"),  # the stored dpd_61_90 needs it
        ({"closed_on": "2023-01-01"}, "correction.opened_on"),  # before the stored opened_on
        ({"status": "bogus"}, "correction.status"),
        ({"colour": "red"}, "correction.colour"),
        ({"as_of": "2026-10-30"}, "correction.as_of"),  # the stored as_of is 2026-10-31
        ({"account_ref": "B-9"}, "correction.account_ref"),
        ({"subject": "0" * 64}, "correction.subject"),
        ({"subject_type": "enterprise"}, "correction.subject_type"),  # A and C hold the borrower as individual
        ({}, "correction.item"),
        ({"status": "dpd_61_90"}, "correction.item"),  # changes nothing
    ],
)
async def test_an_invalid_merge_is_a_422_naming_the_field_and_writes_nothing(http, registry, world, changes, field):
    b, ids = world["b"], world["ids"]
    dispute = await filed(http, world)
    r = await respond(http, b, dispute["id"], ids["B-1"], changes)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.text
    view = (await http.get(f"/v1/disputes/{dispute['id']}", headers=b.headers)).json()
    assert view["covered"][0]["response"] is None and view["covered"][0]["correction"] is None


async def test_a_correction_naming_a_party_of_the_other_type_is_a_422(http, registry, world):
    firm = token()
    await submit(http, world["d"], item(firm, "D-1", subject_type="enterprise", product="enterprise_loan"))
    dispute = await filed(http, world)
    guarantor = {"subject": firm, "subject_type": "individual", "role": "guarantor"}
    r = await respond(http, world["b"], dispute["id"], world["ids"]["B-1"], {"parties": [guarantor]})
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "correction.parties.0.subject_type"
    assert "holds this party as enterprise" in error["message"]
    assert world["d"].code not in r.text and "D-1" not in r.text
    r = await respond(
        http, world["b"], dispute["id"], world["ids"]["B-1"], {"parties": [{**guarantor, "subject_type": "enterprise"}]}
    )
    assert r.status_code == 200, r.text


async def test_the_disputed_borrowers_own_token_may_be_restated(http, registry, world):
    dispute = await filed(http, world)
    r = await respond(http, world["b"], dispute["id"], world["ids"]["B-1"], {**SETTLED, "subject": world["subject"]})
    assert r.status_code == 200, r.text
    other = await respond(http, world["c"], dispute["id"], world["ids"]["C-1"], {**SETTLED, "subject": token()})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "correction.subject"


async def test_no_other_lender_sees_or_makes_a_lenders_correction(http, registry, world):
    b, c, d, ids = world["b"], world["c"], world["d"], world["ids"]
    dispute = await filed(http, world)
    assert (await respond(http, b, dispute["id"], ids["B-1"], SETTLED)).status_code == 200
    # C may not correct B's record, and sees neither B's record nor its answer.
    r = await respond(http, c, dispute["id"], ids["B-1"], {"status": "current"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "record_id"
    view = (await http.get(f"/v1/disputes/{dispute['id']}", headers=c.headers)).json()
    assert [x["record_id"] for x in view["covered"]] == [ids["C-1"]] and view["covered"][0]["correction"] is None
    assert [e["kind"] for e in view["history"]] == ["filed"]
    assert (await http.get(f"/v1/disputes/{dispute['id']}", headers=d.headers)).status_code == 404
    admin = (await http.get(f"/admin/disputes/{dispute['id']}", headers=registry.admin.headers)).json()
    corrections = {x["account_ref"]: x["correction"] for x in admin["covered"]}
    assert corrections["B-1"]["status"] == "settled" and corrections["C-1"] is None
