"""Disputes cannot be used as an oracle or a consent bypass (adversarial review, issue 12).

The abuse: any member filed on any borrower token and learned from 201 vs 422 whether
negative records existed; an open dispute then unlocked `dispute_investigation` exposure with
no consent and no relationship; it flagged other lenders' records, and after 20 unanswered
days dropped them from every answer."""

from __future__ import annotations

import pytest

from tests.factories import item, submit, token

pytestmark = pytest.mark.attack


async def _file(http, member, subject, **fields):
    body = {"subject": subject, "reason": "not_mine", "statement": "Not my loan.", **fields}
    return await http.post("/v1/disputes", json=body, headers=member.headers)


def _shape(value):
    """The structure of a JSON value with its ids and times blanked: what a caller can compare."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k not in ("id", "received_at", "deadline", "at")}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


async def test_a_stranger_cannot_file_and_learns_nothing_either_way(http, registry):
    lender, stranger = await registry.member(), await registry.member()
    with_records, without = token(), token()
    await submit(http, lender, item(with_records, "L-1", status="dpd_91_180"))
    answers = [await _file(http, stranger, s) for s in (with_records, without)]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]
    assert await registry.pool.fetchval("SELECT count(*) FROM disputes WHERE filed_by = $1", stranger.id) == 0
    # Nothing was flagged on the lender's side.
    record = (await http.get("/v1/records", headers=lender.headers)).json()["data"][0]
    assert record["disputed"] is False


async def test_with_consent_no_answer_distinguishes_a_borrower_with_records(http, registry):
    lender, helper = await registry.member(), await registry.member()
    with_records, without = token(), token()
    await submit(http, lender, item(with_records, "L-2", status="dpd_61_90"))
    filed = [await _file(http, helper, s, consent_ref="CONSENT-ORACLE") for s in (with_records, without)]
    assert [f.status_code for f in filed] == [202, 202]
    assert _shape(filed[0].json()) == _shape(filed[1].json())
    views = [(await http.get(f"/v1/disputes/{f.json()['id']}", headers=helper.headers)).json() for f in filed]
    assert _shape(views[0]) == _shape(views[1])
    listed = (await http.get("/v1/disputes", headers=helper.headers)).json()["data"]
    assert [x["records"] for x in listed] == [0, 0]
    # The lender's record is under the (consented) dispute; the association sees both.
    admin = [
        (await http.get(f"/admin/disputes/{f.json()['id']}", headers=registry.admin.headers)).json() for f in filed
    ]
    assert [a["records"] for a in admin] == [1, 0]


async def test_an_open_dispute_is_no_consent_bypass(http, registry):
    lender, helper = await registry.member(), await registry.member()
    s = token()
    await submit(http, lender, item(s, "L-3", status="dpd_31_60"))
    assert (await _file(http, helper, s, consent_ref="CONSENT-X")).status_code == 202
    body = {"subjects": [s], "purpose": "dispute_investigation"}
    before = await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", helper.id)
    r = await http.post("/v1/exposure", json=body, headers=helper.headers)
    assert r.status_code == 422 and "consent_ref" in r.text
    assert await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", helper.id) == before
