"""The borrower's access report lists exactly what is held about the token: every live record
(with institution names and the borrower's dispute statements) and every inquiry of the last
24 months; as JSON, NDJSON and an escaped printable page; audited without the token."""

import orjson

from tests.factories import item, submit, token


async def report(http, registry, subject, accept=None):
    headers = dict(registry.admin.headers)
    if accept:
        headers["Accept"] = accept
    return await http.post("/admin/subject-report", json={"subject": subject}, headers=headers)


async def test_lists_exactly_the_fixtures_records_and_inquiries(http, registry, fixture):
    b, c = fixture["b"], fixture["c"]
    r = await report(http, registry, fixture["subject"].upper())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subject"] == fixture["subject"]
    assert [(x["institution"]["code"], x["account_ref"]) for x in body["records"]] == sorted(
        [(b.code, "B-1"), (c.code, "C-1"), (c.code, "C-OLD")]
    )
    b1 = next(x for x in body["records"] if x["account_ref"] == "B-1")
    assert b1 == {
        "institution": {"code": b.code, "name": b.name},
        "account_ref": "B-1",
        "subject_type": "individual",
        "product": "consumer_loan",
        "status": "dpd_31_60",
        "collection_stage": "none",
        "currency": "CNY",
        "principal_amount": "10000.00",
        "outstanding_amount": "8000.00",
        "overdue_amount": "1200.50",
        "opened_on": "2024-01-10",
        "delinquent_since": "2026-09-01",
        "notice_sent_on": "2026-09-15",
        "closed_on": None,
        "as_of": "2026-10-31",
        "branch_code": None,
        "last_collection_action_on": None,
        "recovered_amount": "0.00",
        "arrangement": "none",
        "uncollected": True,
        "expires_on": None,
        "disputed": True,
        "suppressed": False,
        "disputes": [
            {
                "dispute_id": fixture["dispute"],
                "reason": "wrong_amount",
                "statement": "Overdue is <b>wrong</b>",
                "status": "open",
                "resolution": None,
                "received_at": "2026-11-28T12:00:00Z",
            }
        ],
    }
    assert [(x["institution"]["code"], x["purpose"], x["consent_ref"], x["at"]) for x in body["inquiries"]] == [
        (b.code, "account_review", "CONSENT-2026-11-18", "2026-11-18T08:00:00Z"),
        (c.code, "loan_application", "CONSENT-2024-12-20", "2024-12-20T09:30:00Z"),
    ]
    assert body["inquiries"][1]["institution"]["name"] == "Auto Finance C"
    rows = await registry.audit_rows(action="admin.subject_report", request_id=r.headers["x-request-id"])
    assert [(row["outcome"], row["details"]["records"], row["details"]["inquiries"]) for row in rows] == [(200, 3, 2)]
    assert fixture["subject"] not in orjson.dumps(dict(rows[0])["details"]).decode()


async def test_ndjson_has_a_header_then_one_line_per_record_and_inquiry(http, registry, fixture):
    r = await report(http, registry, fixture["subject"], accept="application/x-ndjson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in r.content.splitlines()]
    assert lines[0]["type"] == "report" and (lines[0]["records"], lines[0]["inquiries"]) == (3, 2)
    assert [x["type"] for x in lines[1:]] == ["record"] * 3 + ["inquiry"] * 2
    json_body = (await report(http, registry, fixture["subject"])).json()
    assert [{k: v for k, v in x.items() if k != "type"} for x in lines[1:4]] == json_body["records"]


async def test_html_is_printable_and_escapes_everything(http, registry, fixture):
    r = await report(http, registry, fixture["subject"], accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "<b>wrong</b>" not in page and "&lt;b&gt;wrong&lt;/b&gt;" in page
    assert "B-1" in page and "C-OLD" in page and "B-EXPIRED" not in page and "C-GONE" not in page
    assert page.count("<tr>") == 1 + 3 + 1 + 2  # two header rows, three records, two inquiries


async def test_an_unknown_subject_gives_an_empty_report(http, registry, fixture):
    body = (await report(http, registry, token())).json()
    assert body["records"] == [] and body["inquiries"] == []


async def test_admin_only_and_validated(http, registry, fixture):
    r = await http.post("/admin/subject-report", json={"subject": fixture["subject"]}, headers=fixture["b"].headers)
    assert r.status_code == 403
    r = await http.post("/admin/subject-report", json={"subject": "xyz"}, headers=registry.admin.headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert (await http.post("/admin/subject-report", json={"subject": fixture["subject"]})).status_code == 401


async def test_the_collection_outcome_fields_reach_the_report(http, registry):
    """A borrower sees what collection did: branch, last action, recovered amount, arrangement."""
    lender, subject = await registry.member(), token()
    fields = {
        "branch_code": "BJ-HAIDIAN.7",
        "last_collection_action_on": "2026-10-20",
        "recovered_amount": "150.25",
        "arrangement": "extension",
    }
    r = await submit(http, lender, item(subject, "OUT-1", status="dpd_31_60", overdue_amount="300", **fields))
    assert r.json()["summary"]["created"] == 1, r.text
    [record] = (await report(http, registry, subject)).json()["records"]
    assert {k: record[k] for k in fields} == fields
    assert record["uncollected"] is False
    lines = (await report(http, registry, subject, accept="application/x-ndjson")).text.splitlines()
    shown = [orjson.loads(line) for line in lines if "OUT-1" in line]
    assert len(shown) == 1 and shown[0]["recovered_amount"] == "150.25" and shown[0]["branch_code"] == "BJ-HAIDIAN.7"
