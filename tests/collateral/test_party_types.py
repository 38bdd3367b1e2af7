"""One token is one kind of subject whether it appears as a borrower or as a party, at any
member: an item whose borrower or party contradicts the type held for that token (as borrower
or as party of a live record elsewhere, or by an earlier item of the same batch) is refused
alone, on the field that says it, and the refusal never says who holds the token."""

from __future__ import annotations

import orjson

from tests.collateral.support import guaranteed
from tests.factories import item, submit, token


def party(subject: str, subject_type: str, role: str = "guarantor") -> dict[str, str]:
    return {"subject": subject, "subject_type": subject_type, "role": role}


def company(subject: str, ref: str, **fields):
    return item(subject, ref, subject_type="enterprise", product="enterprise_loan", **fields)


def refusal(result: dict) -> dict[str, str]:
    assert (result["outcome"], result["record_id"]) == ("rejected", None), result
    [error] = result["errors"]
    return error


def assert_no_member_named(text: str, *holders, refs=()) -> None:
    for holder in holders:
        for secret in (holder.code, holder.name, str(holder.id)):
            assert secret not in text
    for ref in refs:
        assert ref not in text


async def own_refs(http, member) -> list[str]:
    r = await http.get("/v1/records", headers=member.headers)
    return sorted(x["account_ref"] for x in r.json()["data"])


async def test_a_party_contradicting_a_borrower_held_elsewhere_is_refused(http, registry):
    holder, other = await registry.member(name="Holder Bank"), await registry.member()
    person = token()
    assert (await submit(http, holder, item(person, "H-LOAN"))).json()["summary"]["created"] == 1

    r = await submit(
        http,
        other,
        company(token(), "O-1", parties=[party(token(), "enterprise"), party(person, "enterprise")]),
        company(token(), "O-2", parties=[party(person, "individual")]),  # the held type is fine
    )
    assert r.status_code == 200, r.text
    refused, accepted = r.json()["results"]
    error = refusal(refused)
    assert error["field"] == "parties.1.subject_type"
    assert error["message"].startswith("the registry holds this party as individual")
    assert "(this record says enterprise)" in error["message"]
    assert accepted["outcome"] == "created"
    assert_no_member_named(r.text, holder, refs=["H-LOAN"])
    assert await own_refs(http, other) == ["O-2"]


async def test_a_borrower_contradicting_a_party_held_elsewhere_is_refused(http, registry):
    holder, other = await registry.member(), await registry.member()
    firm = token()
    r = await submit(http, holder, guaranteed(token(), "G-1", firm))  # firm guarantees as enterprise
    assert r.json()["summary"]["created"] == 1, r.text

    r = await submit(http, other, item(firm, "O-1"), company(firm, "O-2"))
    refused, accepted = r.json()["results"]
    error = refusal(refused)
    assert error["field"] == "subject_type"
    assert error["message"].startswith("the registry holds this subject as enterprise")
    assert accepted["outcome"] == "created"
    assert_no_member_named(r.text, holder, refs=["G-1"])


async def test_a_party_contradicting_a_party_held_elsewhere_is_refused(http, registry):
    holder, other = await registry.member(), await registry.member()
    firm = token()
    await submit(http, holder, guaranteed(token(), "G-1", firm))

    r = await submit(
        http,
        other,
        item(token(), "O-1", parties=[party(token(), "individual"), party(firm, "individual", "co_borrower")]),
    )
    error = refusal(r.json()["results"][0])
    assert error["field"] == "parties.1.subject_type"
    assert "holds this party as enterprise" in error["message"]
    assert_no_member_named(r.text, holder, refs=["G-1"])
    assert await own_refs(http, other) == []


async def test_the_holder_itself_is_refused_too_but_may_correct_its_own_record(http, registry):
    """The rule is not about others' data: a member's own other record holds the type as well,
    while the record being rewritten does not count against itself."""
    member = await registry.member()
    firm = token()
    await submit(http, member, guaranteed(token(), "G-1", firm))
    r = await submit(http, member, item(firm, "OWN-LOAN"))
    assert refusal(r.json()["results"][0])["field"] == "subject_type"

    corrected = guaranteed(token(), "G-1", firm, as_of="2026-11-01")
    corrected["parties"][0]["subject_type"] = "individual"
    r = await submit(http, member, corrected)
    assert r.json()["results"][0]["outcome"] == "updated", r.text
    r = await submit(http, member, item(firm, "OWN-LOAN"))  # now held as individual
    assert r.json()["results"][0]["outcome"] == "created", r.text


async def test_within_one_batch_items_contradicting_each_other_are_refused(http, registry):
    member = await registry.member()
    firm, person, fresh = token(), token(), token()
    held = token()
    await submit(http, await registry.member(), item(held, "ELSEWHERE"))  # held as individual
    r = await submit(
        http,
        member,
        guaranteed(token(), "B-1", firm),  # firm: enterprise, as party
        item(firm, "B-2"),  # as borrower, individual: contradicts B-1
        item(person, "B-3"),  # person: individual, as borrower
        item(token(), "B-4", parties=[party(person, "enterprise")]),  # contradicts B-3
        # Refused for its borrower, so its party's type holds nothing for the item after it.
        company(held, "B-5", parties=[party(fresh, "enterprise")]),
        item(token(), "B-6", parties=[party(fresh, "individual")]),
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["created", "rejected", "created", "rejected", "rejected", "created"]
    assert refusal(results[1])["field"] == "subject_type"
    assert refusal(results[1])["message"].startswith(
        "an earlier record of this request gives this subject as enterprise"
    )
    assert refusal(results[3])["field"] == "parties.0.subject_type"
    assert refusal(results[3])["message"].startswith("an earlier record of this request gives this party as individual")
    assert refusal(results[4]) == {
        "field": "subject_type",
        "message": "the registry holds this subject as individual; one token cannot be both individual and "
        "enterprise (this record says enterprise)",
    }
    assert r.json()["summary"]["rejected"] == 3


async def test_an_item_with_several_contradictions_names_each_field(http, registry):
    holder, other = await registry.member(), await registry.member()
    person, firm = token(), token()
    await submit(http, holder, item(person, "H-1"), guaranteed(token(), "H-2", firm))
    r = await submit(
        http, other, company(person, "O-1", parties=[party(token(), "individual"), party(firm, "individual")])
    )
    result = r.json()["results"][0]
    assert result["outcome"] == "rejected"
    assert [e["field"] for e in result["errors"]] == ["subject_type", "parties.1.subject_type"]
    assert_no_member_named(r.text, holder, refs=["H-1", "H-2"])


async def test_a_withdrawn_records_party_holds_no_type(http, registry):
    holder, other = await registry.member(), await registry.member()
    firm = token()
    r = await submit(http, holder, guaranteed(token(), "G-1", firm))
    record_id = r.json()["results"][0]["record_id"]
    assert (await http.delete(f"/v1/records/{record_id}", headers=holder.headers)).status_code == 200
    r = await submit(http, other, item(firm, "O-1"))
    assert r.json()["results"][0]["outcome"] == "created", r.text


async def test_an_upload_line_whose_party_contradicts_is_refused_with_its_number(http, registry):
    holder, member = await registry.member(name="Holder Upload Bank"), await registry.member()
    person, firm = token(), token()
    await submit(http, holder, item(person, "H-1"))
    lines = [
        item(token(), "U-1", parties=[party(person, "individual")]),
        item(token(), "U-2", parties=[party(person, "enterprise")]),  # contradicts the holder's borrower
        guaranteed(token(), "U-3", firm),  # firm: enterprise
        item(firm, "U-4"),  # contradicts line 3
    ]
    body = b"".join(orjson.dumps(x) + b"\n" for x in lines)
    r = await http.post("/v1/uploads", content=body, headers={**member.headers, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["status"], job["created"], job["rejected"]) == ("completed", 2, 2)
    report = await http.get(f"/v1/uploads/{job['id']}/errors", headers=member.headers)
    rejected = [orjson.loads(x) for x in report.content.splitlines()]
    assert [(x["line"], x["account_ref"], [e["field"] for e in x["errors"]]) for x in rejected] == [
        (2, "U-2", ["parties.0.subject_type"]),
        (4, "U-4", ["subject_type"]),
    ]
    assert_no_member_named(report.text, holder, refs=["H-1"])
    assert await own_refs(http, member) == ["U-1", "U-3"]


async def test_a_csv_upload_line_whose_party_contradicts_is_refused(http, registry):
    holder, member = await registry.member(), await registry.member()
    firm = token()
    await submit(http, holder, guaranteed(token(), "G-1", firm))
    body = (
        "subject,subject_type,account_ref,product,status,principal_amount,outstanding_amount,as_of,parties\r\n"
        f"{token()},individual,CSV-1,consumer_loan,current,100,50,2026-10-31,guarantor:individual:{firm}\r\n"
        f"{token()},individual,CSV-2,consumer_loan,current,100,50,2026-10-31,guarantor:enterprise:{firm}\r\n"
    ).encode()
    r = await http.post("/v1/uploads", content=body, headers={**member.headers, "Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    assert (r.json()["created"], r.json()["rejected"]) == (1, 1)
    report = await http.get(f"/v1/uploads/{r.json()['id']}/errors", headers=member.headers)
    [line] = [orjson.loads(x) for x in report.content.splitlines()]
    assert (line["line"], line["account_ref"], line["errors"][0]["field"]) == (2, "CSV-1", "parties.0.subject_type")
    assert_no_member_named(report.text, holder, refs=["G-1"])
