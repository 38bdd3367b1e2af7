"""Disputes: filing flags every covered record at once, the 20-day clock (injected) and the
suppression of overdue disputes, each resolution path and what it does to exposure answers,
the owners' answers and their validation, and who may see what."""

from datetime import UTC, datetime, timedelta

from tests.disputes.support import (
    DEADLINE,
    NOW,
    answer,
    delinquent,
    exposure,
    file,
    filed,
    record_of,
    resolve,
)
from tests.factories import item, submit


async def test_filing_covers_every_live_negative_record_and_flags_it_at_once(http, registry, world):
    s, ids = world["subject"], world["ids"]
    before = await answer(http, world["a"], s)
    assert before["disputed"] is False and before["accounts"]["delinquent"] == 2

    filing = await filed(http, world)
    assert set(filing) == {"id", "status", "received_at", "deadline"} and filing["status"] == "open"
    assert datetime.fromisoformat(filing["received_at"]) == NOW
    assert datetime.fromisoformat(filing["deadline"]) == DEADLINE
    body = (await http.get(f"/v1/disputes/{filing['id']}", headers=world["a"].headers)).json()
    # A holds none of the covered records: it sees no record of other lenders, nor how many there are.
    assert body["records"] == 0 and body["overdue"] is False
    assert body["filed_by_you"] is True and body["covered"] == []
    assert [(e["kind"], e["details"]) for e in body["history"]] == [("filed", {"reason": "already_settled"})]
    admin = (await http.get(f"/admin/disputes/{filing['id']}", headers=registry.admin.headers)).json()
    assert admin["records"] == 2 and len(admin["covered"]) == 2

    after = await answer(http, world["a"], s)
    assert after["disputed"] is True and after["accounts"]["delinquent"] == 2
    assert (await record_of(http, world["b"], ids["B-1"]))["disputed"] is True
    assert (await record_of(http, world["c"], ids["C-1"]))["disputed"] is True
    assert (await record_of(http, world["c"], ids["C-2"]))["disputed"] is False  # current: not covered
    assert (await record_of(http, world["a"], ids["A-1"]))["disputed"] is False
    rows = await registry.audit_rows(action="disputes.file", resource=f"dispute:{body['id']}")
    assert [(r["outcome"], "records" in r["details"]) for r in rows] == [(202, False)]


async def test_the_20_day_clock_suppresses_covered_records_until_resolved(http, registry, world, clock):
    s = world["subject"]
    dispute = await filed(http, world)

    clock.set(DEADLINE - timedelta(seconds=1))
    still = await answer(http, world["a"], s)
    assert still["disputed"] is True and still["accounts"]["delinquent"] == 2
    view = (await http.get(f"/v1/disputes/{dispute['id']}", headers=world["a"].headers)).json()
    assert view["overdue"] is False

    clock.set(DEADLINE)
    overdue = await answer(http, world["a"], s)
    # Both delinquent records leave the answer; C's current account stays.
    assert overdue["accounts"] == {
        "total": 1,
        "delinquent": 0,
        "by_status": {"current": 1},
        "by_product": {"credit_card": 1},
        "in_arrangement": 0,
    }
    assert overdue["disputed"] is False and overdue["worst_status"] == "current"
    assert overdue["overdue_amounts"] == {"CNY": "0.00"}
    view = (await http.get(f"/v1/disputes/{dispute['id']}", headers=world["a"].headers)).json()
    assert view["overdue"] is True
    listed = await http.get("/admin/disputes", params={"overdue": "true", "limit": 500}, headers=registry.admin.headers)
    assert dispute["id"] in [d["id"] for d in listed.json()["data"]]
    listed = await http.get(
        "/admin/disputes", params={"overdue": "false", "status": "open", "limit": 500}, headers=registry.admin.headers
    )
    assert dispute["id"] not in [d["id"] for d in listed.json()["data"]]
    # The owner's own view of the exposure loses the record too, but the relationship stands.
    own = await exposure(http, world["b"], s, purpose="account_review")
    assert own.status_code == 200 and own.json()["results"][0]["own"]["accounts"] == 0

    clock.set(DEADLINE + timedelta(days=5))
    r = await resolve(http, registry, dispute["id"], "rejected")
    assert r.status_code == 200, r.text
    back = await answer(http, world["a"], s)
    assert back["accounts"]["delinquent"] == 2 and back["disputed"] is False


async def test_upheld_applies_the_owners_correction_and_suppresses_the_rest(http, registry, world, clock):
    s, ids = world["subject"], world["ids"]
    dispute = await filed(http, world)
    clock.set(NOW + timedelta(days=3))
    correction = item(
        s,
        "B-1",
        status="settled",
        outstanding_amount="0",
        overdue_amount="0",
        delinquent_since="2026-09-01",
        notice_sent_on="2026-09-15",
        closed_on="2026-08-20",
        as_of="2026-11-30",
    )
    r = await http.post(
        f"/v1/disputes/{dispute['id']}/response",
        headers=world["b"].headers,
        json={"record_id": ids["B-1"], "action": "correct", "note": "Paid on 20 August", "correction": correction},
    )
    assert r.status_code == 200, r.text
    assert r.json()["covered"][0]["response"] == "correct"
    assert "subject" not in r.json()["covered"][0]["correction"]  # the token is never stored
    # Nothing changes before the association decides.
    assert (await answer(http, world["a"], s))["accounts"]["delinquent"] == 2
    r = await http.post(
        f"/v1/disputes/{dispute['id']}/response",
        headers=world["c"].headers,
        json={"record_id": ids["C-1"], "action": "confirm", "note": "Ledger shows 61 days overdue"},
    )
    assert r.status_code == 200, r.text

    r = await resolve(http, registry, dispute["id"], "upheld")
    assert r.status_code == 200, r.text
    resolved = r.json()
    assert resolved["status"] == "resolved" and resolved["resolution"] == "upheld"
    assert {c["account_ref"]: c["outcome"] for c in resolved["covered"]} == {"B-1": "corrected", "C-1": "suppressed"}
    assert [e["kind"] for e in resolved["history"]] == ["filed", "response", "response", "resolved"]

    body = await answer(http, world["a"], s)
    assert body["accounts"] == {
        "total": 2,
        "delinquent": 0,
        "by_status": {"current": 1, "settled": 1},
        "by_product": {"consumer_loan": 1, "credit_card": 1},
        "in_arrangement": 0,
    }
    assert body["disputed"] is False
    b1 = await record_of(http, world["b"], ids["B-1"])
    assert (b1["status"], b1["disputed"], b1["suppressed"], b1["version"]) == ("settled", False, False, 2)
    c1 = await record_of(http, world["c"], ids["C-1"])
    assert (c1["disputed"], c1["suppressed"]) == (False, True)
    # Suppressed for good: a later report by the owner does not bring it back.
    await submit(http, world["c"], delinquent(s, "C-1", as_of="2026-12-01"))
    clock.set(datetime(2026, 12, 2, tzinfo=UTC))
    assert (await answer(http, world["a"], s))["accounts"]["delinquent"] == 0
    rows = await registry.audit_rows(action="admin.dispute.resolve", resource=f"dispute:{dispute['id']}")
    assert [(r["outcome"], r["details"]["suppressed"]) for r in rows] == [(200, 1)]


async def test_rejected_clears_the_flag_and_keeps_the_statement(http, registry, world):
    s, ids = world["subject"], world["ids"]
    dispute = await filed(http, world)
    r = await resolve(http, registry, dispute["id"], "rejected", note="Both lenders' ledgers confirm")
    assert r.status_code == 200 and {c["outcome"] for c in r.json()["covered"]} == {"kept"}
    body = await answer(http, world["a"], s)
    assert body["disputed"] is False and body["accounts"]["delinquent"] == 2
    assert (await record_of(http, world["b"], ids["B-1"]))["disputed"] is False
    view = (await http.get(f"/v1/disputes/{dispute['id']}", headers=world["b"].headers)).json()
    assert (
        view["statement"] == "I repaid both loans in August."
        and view["resolution_note"] == "Both lenders' ledgers confirm"
    )


async def test_unverifiable_keeps_the_record_and_its_flag(http, registry, world):
    s, ids = world["subject"], world["ids"]
    dispute = await filed(http, world)
    r = await resolve(http, registry, dispute["id"], "unverifiable")
    assert r.status_code == 200
    body = await answer(http, world["a"], s)
    assert body["disputed"] is True and body["accounts"]["delinquent"] == 2
    b1 = await record_of(http, world["b"], ids["B-1"])
    assert (b1["disputed"], b1["suppressed"]) == (True, False)
    # No deadline any more: months later the record is still answered.
    listed = await http.get("/v1/disputes", params={"status": "resolved"}, headers=world["b"].headers)
    assert [d["resolution"] for d in listed.json()["data"]] == ["unverifiable"]


async def test_a_second_open_dispute_keeps_the_flag_after_the_first_is_rejected(http, registry, world):
    s, ids = world["subject"], world["ids"]
    first = await filed(http, world)
    second = await file(http, world["b"], s, record_id=ids["B-1"], reason="wrong_amount")
    assert second.status_code == 202
    assert (await http.get(f"/v1/disputes/{second.json()['id']}", headers=world["b"].headers)).json()["records"] == 1
    assert (await resolve(http, registry, first["id"], "rejected")).status_code == 200
    assert (await record_of(http, world["b"], ids["B-1"]))["disputed"] is True
    assert (await record_of(http, world["c"], ids["C-1"]))["disputed"] is False


async def test_resolving_twice_or_answering_a_resolved_dispute_is_a_conflict(http, registry, world):
    dispute = await filed(http, world)
    assert (await resolve(http, registry, dispute["id"], "rejected")).status_code == 200
    r = await resolve(http, registry, dispute["id"], "upheld")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    r = await http.post(
        f"/v1/disputes/{dispute['id']}/response",
        headers=world["b"].headers,
        json={"record_id": world["ids"]["B-1"], "action": "confirm", "note": "late"},
    )
    assert r.status_code == 409
    # The refused resolution changed nothing.
    assert (await record_of(http, world["c"], world["ids"]["C-1"]))["suppressed"] is False
    assert [
        r["outcome"]
        for r in await registry.audit_rows(action="admin.dispute.resolve", resource=f"dispute:{dispute['id']}")
    ] == [200, 409]
