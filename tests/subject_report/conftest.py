"""The subject report tests' borrower: records at two lenders (one with a name that needs
escaping), an expired and a withdrawn record, an open dispute, and inquiries in and out of
the 24 months reported."""

from datetime import UTC, datetime

import pytest

from tests.factories import item, submit, token

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def ask(http, member, subject, at, clock, purpose="loan_application"):
    clock.set(at)
    body = {"subjects": [subject], "purpose": purpose, "consent_ref": f"CONSENT-{at.date()}"}
    r = await http.post("/v1/exposure", json=body, headers=member.headers)
    assert r.status_code == 200, r.text


@pytest.fixture
async def fixture(http, registry, clock):
    b = await registry.member(name="Bank <script>alert(1)</script> & Co")
    c = await registry.member(kind="auto_finance", name="Auto Finance C")
    s, other = token(), token()
    clock.set(datetime(2024, 12, 1, tzinfo=UTC))
    await submit(http, c, item(s, "C-OLD", as_of="2024-11-30"))
    clock.set(NOW)
    r = await submit(
        http,
        b,
        item(s, "B-1", status="dpd_31_60", overdue_amount="1200.50", outstanding_amount="8000"),
        # Closed long ago: expired, not held any more.
        item(s, "B-EXPIRED", opened_on="2012-01-01", closed_on="2019-06-30", as_of="2019-06-30"),
        item(other, "B-OTHER"),
    )
    assert r.json()["summary"]["created"] == 3
    r = await submit(http, c, item(s, "C-1", product="auto_loan"), item(s, "C-GONE"))
    gone = r.json()["results"][1]["record_id"]
    assert (await http.delete(f"/v1/records/{gone}", headers=c.headers)).status_code == 200
    dispute = await http.post(
        "/v1/disputes",
        headers=b.headers,
        json={"subject": s, "reason": "wrong_amount", "statement": "Overdue is <b>wrong</b>"},
    )
    assert dispute.status_code == 202
    # Inquiries: 25 months ago (no longer reported), 23 months ago, 10 days ago; one about another subject.
    await ask(http, c, s, datetime(2024, 10, 20, tzinfo=UTC), clock)
    await ask(http, c, s, datetime(2024, 12, 20, 9, 30, tzinfo=UTC), clock)
    await ask(http, b, s, datetime(2026, 11, 18, 8, 0, tzinfo=UTC), clock, purpose="account_review")
    await ask(http, b, other, datetime(2026, 11, 18, tzinfo=UTC), clock)
    clock.set(NOW)
    return {"b": b, "c": c, "subject": s, "dispute": dispute.json()["id"]}
