"""One token is one kind of subject: a record that contradicts the type the registry holds for
its subject is refused, in a batch (per item) and in an upload (per line), whoever holds the
other records; the refusal names the held type, never who holds it. The same rule for tokens
named as guarantors and co-borrowers: tests/collateral/test_party_types.py."""

import orjson

from tests.factories import item, submit, token


def enterprise(subject, ref, **fields):
    return item(subject, ref, subject_type="enterprise", product="enterprise_loan", **fields)


async def own_records(http, member, subject):
    r = await http.get("/v1/records", params={"subject": subject}, headers=member.headers)
    assert r.status_code == 200, r.text
    return [x["account_ref"] for x in r.json()["data"]]


async def test_a_record_contradicting_another_lenders_type_is_refused(http, registry):
    holder, other = await registry.member(), await registry.member()
    s = token()
    assert (await submit(http, holder, item(s, "H-1"))).json()["summary"]["created"] == 1

    r = await submit(http, other, enterprise(s, "O-1"), item(s, "O-2"))
    assert r.status_code == 200, r.text
    refused, accepted = r.json()["results"]
    assert (refused["outcome"], refused["record_id"]) == ("rejected", None)
    [error] = refused["errors"]
    assert error["field"] == "subject_type"
    assert "individual" in error["message"] and "enterprise" in error["message"]
    for secret in (holder.code, holder.name, str(holder.id)):
        assert secret not in r.text
    assert accepted["outcome"] == "created"  # the same type as held is fine
    assert await own_records(http, other, s) == ["O-2"]


async def test_within_one_batch_the_first_type_stands(http, registry):
    member = await registry.member()
    s = token()
    r = await submit(http, member, enterprise(s, "E-1"), item(s, "E-2"))
    assert [x["outcome"] for x in r.json()["results"]] == ["created", "rejected"]
    assert r.json()["results"][1]["errors"][0]["field"] == "subject_type"
    assert r.json()["summary"]["rejected"] == 1


async def test_a_lender_may_correct_the_type_of_a_subject_only_it_reports(http, registry):
    member, other = await registry.member(), await registry.member()
    s = token()
    await submit(http, member, item(s, "C-1"))
    r = await submit(http, member, enterprise(s, "C-1", as_of="2026-11-01"))
    assert r.json()["results"][0]["outcome"] == "updated", r.text
    # Once another lender holds the subject as enterprise, going back is refused.
    await submit(http, other, enterprise(s, "X-1"))
    r = await submit(http, member, item(s, "C-1", as_of="2026-11-02"))
    assert r.json()["results"][0]["outcome"] == "rejected"


async def test_an_upload_refuses_contradicting_lines_with_their_numbers(http, registry):
    holder, member = await registry.member(), await registry.member()
    held, fresh = token(), token()
    await submit(http, holder, item(held, "H-1"))
    body = b"".join(
        orjson.dumps(x) + b"\n"
        for x in (
            item(fresh, "U-1"),
            enterprise(fresh, "U-2"),  # contradicts line 1
            enterprise(held, "U-3"),  # contradicts the holder's record
            item(held, "U-4"),
        )
    )
    r = await http.post("/v1/uploads", content=body, headers={**member.headers, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["status"], job["created"], job["rejected"]) == ("completed", 2, 2)
    report = await http.get(f"/v1/uploads/{job['id']}/errors", headers=member.headers)
    lines = [orjson.loads(x) for x in report.content.splitlines()]
    assert [(x["line"], x["account_ref"], x["errors"][0]["field"]) for x in lines] == [
        (2, "U-2", "subject_type"),
        (3, "U-3", "subject_type"),
    ]
    assert holder.code not in report.text
    assert sorted(await own_records(http, member, fresh) + await own_records(http, member, held)) == ["U-1", "U-4"]
