"""Guarantors and co-borrowers on records: accepted, refused for the borrower itself, shown
back without tokens, replaced on update; and the contingent exposure they make: a borrower
who guarantees delinquent loans at other members, never naming those members."""

from __future__ import annotations

from tests.collateral.support import guaranteed
from tests.factories import item, submit, token


async def query(http, member, subjects):
    return await http.post(
        "/v1/exposure",
        json={"subjects": subjects, "purpose": "loan_application", "consent_ref": "C-1"},
        headers=member.headers,
    )


async def test_parties_are_stored_and_shown_without_tokens(http, registry):
    member = await registry.member()
    borrower, guarantor, co = token(), token(), token()
    parties = [
        {"subject": guarantor, "subject_type": "enterprise", "role": "guarantor"},
        {"subject": co, "subject_type": "individual", "role": "co_borrower"},
    ]
    r = await submit(http, member, item(borrower, "P-1", parties=parties))
    assert r.status_code == 200 and r.json()["summary"]["created"] == 1, r.text
    record_id = r.json()["results"][0]["record_id"]

    detail = (await http.get(f"/v1/records/{record_id}", headers=member.headers)).json()
    assert sorted(detail["parties"], key=lambda p: p["role"]) == [
        {"subject_type": "individual", "role": "co_borrower"},
        {"subject_type": "enterprise", "role": "guarantor"},
    ]
    assert detail["collateral"] is None
    assert guarantor not in str(detail) and co not in str(detail)
    listed = (await http.get("/v1/records", headers=member.headers)).json()["data"]
    assert [len(x["parties"]) for x in listed] == [2]

    # The same report again is unchanged; a report without the co-borrower drops that link.
    again = await submit(http, member, item(borrower, "P-1", parties=parties))
    assert again.json()["summary"]["unchanged"] == 1
    fewer = await submit(http, member, item(borrower, "P-1", parties=parties[:1], as_of="2026-11-01"))
    assert fewer.json()["summary"]["updated"] == 1
    detail = (await http.get(f"/v1/records/{record_id}", headers=member.headers)).json()
    assert detail["parties"] == [{"subject_type": "enterprise", "role": "guarantor"}]


async def test_bad_parties_are_rejected_with_reasons(http, registry):
    member = await registry.member()
    borrower, other = token(), token()
    party = {"subject": other, "subject_type": "individual", "role": "guarantor"}
    r = await submit(
        http,
        member,
        item(
            borrower,
            "BAD-1",
            parties=[{"subject": borrower.upper(), "subject_type": "individual", "role": "guarantor"}],
        ),
        item(borrower, "BAD-2", parties=[party, party]),
        item(borrower, "BAD-3", parties=[party] * 11),
        item(borrower, "BAD-4", parties=[{**party, "role": "witness"}]),
        item(borrower, "BAD-5", parties=[{**party, "subject": "11010519491231002X"}]),
        item(borrower, "BAD-6", collateral={"kind": "house", "token": other}),
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["rejected"] * 6
    assert results[0]["errors"] == [
        {"field": "parties.0.subject", "message": "the account's own borrower cannot be a party to it"}
    ]
    assert results[1]["errors"] == [{"field": "parties.1.subject", "message": "the same party appears twice"}]
    assert results[2]["errors"][0]["field"] == "parties"
    assert results[3]["errors"][0]["field"] == "parties.0.role"
    assert results[4]["errors"][0]["field"] == "parties.0.subject"
    assert results[5]["errors"][0]["field"] == "collateral.kind"
    assert (await http.get("/v1/records", headers=member.headers)).json()["data"] == []


async def test_a_guarantor_of_two_delinquent_loans_at_two_other_members(http, registry):
    """The fixture of the contract: a clean borrower at the asker, guarantor of two delinquent
    loans at two other members (and of one loan at the asker itself, which stays apart)."""
    asker, lender_b, lender_c = await registry.member(), await registry.member(), await registry.member()
    guarantor = token()
    assert (await submit(http, asker, item(guarantor, "OWN-1", subject_type="enterprise"))).status_code == 200
    r = await submit(
        http,
        lender_b,
        guaranteed(
            token(), "B-1", guarantor, status="dpd_61_90", outstanding_amount="500000.00", overdue_amount="60000.00"
        ),
    )
    assert r.json()["summary"]["created"] == 1, r.text
    r = await submit(
        http,
        lender_c,
        guaranteed(
            token(), "C-1", guarantor, status="dpd_31_60", outstanding_amount="300000.00", overdue_amount="20000.00"
        ),
        guaranteed(token(), "C-2", guarantor, role="co_borrower", outstanding_amount="100000.00"),
    )
    assert r.json()["summary"]["created"] == 2, r.text
    # The asker's own guaranteed loan is its own business, not contingent exposure elsewhere.
    assert (await submit(http, asker, guaranteed(token(), "OWN-2", guarantor, status="dpd_1_30"))).status_code == 200

    response = await query(http, asker, [guarantor])
    assert response.status_code == 200, response.text
    answer = response.json()["results"][0]
    assert answer["found"] is False and answer["accounts"]["total"] == 0  # no loan of its own elsewhere
    assert answer["own"]["accounts"] == 1
    assert answer["contingent"] == {
        "accounts": 3,
        "delinquent": 2,
        "worst_status": "dpd_61_90",
        "outstanding_amounts": {"CNY": "900000.00"},
        "overdue_amounts": {"CNY": "80000.00"},
        "by_role": {"co_borrower": {"accounts": 1, "delinquent": 0}, "guarantor": {"accounts": 2, "delinquent": 2}},
    }
    for member in (lender_b, lender_c):
        for secret in (str(member.id), member.code, member.name, "B-1", "C-1", "C-2"):
            assert secret not in response.text

    # From lender B's side its own loan B-1 is left out; the asker's OWN-2 is another's now.
    from_b = (await query(http, lender_b, [guarantor])).json()["results"][0]["contingent"]
    assert (from_b["accounts"], from_b["delinquent"], from_b["by_role"]["guarantor"]) == (
        3,
        2,
        {"accounts": 2, "delinquent": 2},
    )


async def test_a_withdrawn_account_leaves_the_contingent_figures(http, registry):
    asker, lender = await registry.member(), await registry.member()
    guarantor = token()
    r = await submit(http, lender, guaranteed(token(), "W-1", guarantor, status="dpd_31_60", overdue_amount="10.00"))
    record_id = r.json()["results"][0]["record_id"]
    assert (await query(http, asker, [guarantor])).json()["results"][0]["contingent"]["accounts"] == 1
    assert (await http.delete(f"/v1/records/{record_id}", headers=lender.headers)).status_code == 200
    assert (await query(http, asker, [guarantor])).json()["results"][0]["contingent"]["accounts"] == 0
