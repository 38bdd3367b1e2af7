"""A guarantor's side: the subject report lists the accounts where the borrower is a party,
with its role; the party may dispute such an account; upheld, the dispute removes the party's
link (from the contingent figures and from later reports of the account) and leaves the
borrower's record as it was. Rejected, the link stays."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from tests.collateral.support import guaranteed
from tests.factories import item, submit, token

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def contingent(http, member, subject):
    body = {"subjects": [subject], "purpose": "loan_application", "consent_ref": "CONSENT-P"}
    r = await http.post("/v1/exposure", json=body, headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()["results"][0]


async def report(http, registry, subject, accept=None):
    headers = {**registry.admin.headers, **({"Accept": accept} if accept else {})}
    r = await http.post("/admin/subject-report", json={"subject": subject}, headers=headers)
    assert r.status_code == 200, r.text
    return r


async def test_the_subject_report_lists_the_accounts_a_borrower_guarantees(http, registry, clock):
    clock.set(NOW)
    lender = await registry.member(name="Project Lender P")
    guarantor, borrower = token(), token()
    r = await submit(
        http,
        lender,
        guaranteed(borrower, "PF-1", guarantor, status="dpd_31_60", overdue_amount="900.00"),
        item(
            guarantor, "OWN-LOAN", subject_type="enterprise", product="enterprise_loan"
        ),  # a company, as guarantor too
    )
    assert r.json()["summary"]["created"] == 2
    body = (await report(http, registry, guarantor)).json()
    assert [x["account_ref"] for x in body["records"]] == ["OWN-LOAN"]
    [party] = body["party_records"]
    assert party["record_id"] == r.json()["results"][0]["record_id"]
    assert {k: party[k] for k in ("account_ref", "role", "product", "status", "overdue_amount", "link_removed")} == {
        "account_ref": "PF-1",
        "role": "guarantor",
        "product": "enterprise_loan",
        "status": "dpd_31_60",
        "overdue_amount": "900.00",
        "link_removed": False,
    }
    assert party["institution"] == {"code": lender.code, "name": "Project Lender P"}
    lines = [
        orjson.loads(x) for x in (await report(http, registry, guarantor, "application/x-ndjson")).content.splitlines()
    ]
    assert [x["type"] for x in lines] == ["report", "record", "party_record"]
    page = (await report(http, registry, guarantor, "text/html")).text
    assert "Accounts you guarantee or share (1)" in page and "PF-1" in page
    # The borrower's own report does not list its own account as a party record.
    assert (await report(http, registry, borrower)).json()["party_records"] == []


async def test_an_upheld_party_dispute_removes_the_link_and_keeps_the_record(http, registry, clock):
    clock.set(NOW)
    lender, asker = await registry.member(), await registry.member()
    guarantor, borrower = token(), token()
    r = await submit(http, lender, guaranteed(borrower, "G-1", guarantor, status="dpd_61_90", overdue_amount="50.00"))
    record_id = r.json()["results"][0]["record_id"]
    assert (await contingent(http, asker, guarantor))["contingent"]["accounts"] == 1

    # The link is the party's to dispute; the record must name it as a party.
    stranger = token()
    refused = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": stranger, "record_id": record_id, "reason": "not_mine", "statement": "Not my guarantee."},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "subject"
    filed = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": guarantor, "record_id": record_id, "reason": "not_mine", "statement": "I never signed."},
    )
    assert filed.status_code == 201, filed.text
    dispute_id = filed.json()["id"]

    resolved = await http.patch(
        f"/admin/disputes/{dispute_id}", json={"resolution": "upheld", "note": "Forged"}, headers=registry.admin.headers
    )
    assert resolved.status_code == 200, resolved.text
    assert [c["outcome"] for c in resolved.json()["covered"]] == ["unlinked"]

    # The guarantor's contingent exposure loses the account; the borrower's record stands.
    assert (await contingent(http, asker, guarantor))["contingent"]["accounts"] == 0
    borrower_view = await contingent(http, asker, borrower)
    assert (borrower_view["accounts"]["total"], borrower_view["worst_status"]) == (1, "dpd_61_90")
    detail = (await http.get(f"/v1/records/{record_id}", headers=lender.headers)).json()
    assert detail["parties"] == [] and detail["suppressed"] is False
    [party] = (await report(http, registry, guarantor)).json()["party_records"]
    assert party["link_removed"] is True

    # A later report of the account naming the guarantor again does not bring the link back.
    again = guaranteed(borrower, "G-1", guarantor, status="dpd_91_180", overdue_amount="80.00", as_of="2026-11-20")
    assert (await submit(http, lender, again)).json()["summary"]["updated"] == 1
    assert (await contingent(http, asker, guarantor))["contingent"]["accounts"] == 0


async def test_a_rejected_party_dispute_keeps_the_link(http, registry, clock):
    clock.set(NOW)
    lender, asker = await registry.member(), await registry.member()
    guarantor = token()
    r = await submit(http, lender, guaranteed(token(), "K-1", guarantor, status="dpd_31_60", overdue_amount="5.00"))
    record_id = r.json()["results"][0]["record_id"]
    filed = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": guarantor, "record_id": record_id, "reason": "not_mine", "statement": "Not me."},
    )
    assert filed.status_code == 201, filed.text
    resolved = await http.patch(
        f"/admin/disputes/{filed.json()['id']}",
        json={"resolution": "rejected", "note": "Signed"},
        headers=registry.admin.headers,
    )
    assert [c["outcome"] for c in resolved.json()["covered"]] == ["kept"]
    assert (await contingent(http, asker, guarantor))["contingent"]["accounts"] == 1


async def test_a_lenders_partial_correction_keeps_the_accounts_parties_and_vehicle(http, registry, clock):
    """The stored record holds its links by key: a correction that does not restate them keeps
    them, and the corrected record still names its guarantor and its car."""
    clock.set(NOW)
    lender, asker = await registry.member(), await registry.member()
    borrower, guarantor = token(), token()
    account = guaranteed(borrower, "GC-1", guarantor, status="dpd_61_90", overdue_amount="70.00")
    account["collateral"] = {"kind": "vehicle", "token": token()}
    r = await submit(http, lender, account)
    record_id = r.json()["results"][0]["record_id"]
    filed = await http.post(
        "/admin/disputes",
        headers=registry.admin.headers,
        json={"subject": borrower, "reason": "already_settled", "statement": "Repaid in November."},
    )
    assert filed.status_code == 201, filed.text
    dispute_id = filed.json()["id"]
    correction = {"status": "settled", "outstanding_amount": "0", "overdue_amount": "0", "closed_on": "2026-11-20"}
    answered = await http.post(
        f"/v1/disputes/{dispute_id}/response",
        json={"record_id": record_id, "action": "correct", "note": "Settled", "correction": correction},
        headers=lender.headers,
    )
    assert answered.status_code == 200, answered.text
    resolved = await http.patch(
        f"/admin/disputes/{dispute_id}", json={"resolution": "upheld", "note": "Paid"}, headers=registry.admin.headers
    )
    assert resolved.status_code == 200, resolved.text
    assert [c["outcome"] for c in resolved.json()["covered"]] == ["corrected"], resolved.text
    detail = (await http.get(f"/v1/records/{record_id}", headers=lender.headers)).json()
    assert detail["status"] == "settled"
    assert [p["role"] for p in detail["parties"]] == ["guarantor"] and detail["collateral"] == {"kind": "vehicle"}
    # The guarantor still stands behind the account, now settled: no longer delinquent.
    guarantee = (await contingent(http, asker, guarantor))["contingent"]
    assert (guarantee["accounts"], guarantee["delinquent"]) == (1, 0)
