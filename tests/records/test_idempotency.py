"""One Idempotency-Key on requests sent at the same time: the work is done once. Every other
request is told to retry (409 with Retry-After) or gets the first answer again, whichever it
met; a retry after the first request ended is the identical answer."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.disputes.support import delinquent
from tests.factories import item, submit, token

TOGETHER = 6


def sort_answers(answers: list[httpx.Response], status: int) -> tuple[list[httpx.Response], list[httpx.Response]]:
    """(the answers of the work, the 409s); nothing else may come back."""
    done = [a for a in answers if a.status_code == status]
    busy = [a for a in answers if a.status_code == 409]
    assert len(done) + len(busy) == len(answers), [(a.status_code, a.text) for a in answers]
    assert done, "no request did the work"
    assert all(a.json() == done[0].json() for a in done), "a replay differs from the first answer"
    for refused in busy:
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1" and refused.headers["x-should-retry"] == "true"
    return done, busy


async def test_concurrent_record_batches_with_one_key_apply_once(http, registry):
    bank = await registry.member()
    # Big enough that the first request is still writing when the others arrive.
    batch = {"records": [item(token(), f"RACE-{n}") for n in range(300)]}
    headers = {**bank.headers, "Idempotency-Key": f"race-{bank.code}"}

    answers = await asyncio.gather(*(http.post("/v1/records", json=batch, headers=headers) for _ in range(TOGETHER)))
    done, busy = sort_answers(list(answers), 200)
    assert done[0].json()["summary"]["created"] == 300

    count = registry.pool.fetchval
    assert await count("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 300
    assert await count("SELECT count(*) FROM record_events WHERE member_id = $1", bank.id) == 300
    retry = await http.post("/v1/records", json=batch, headers=headers)
    assert retry.status_code == 200 and retry.json() == done[0].json()
    assert await count("SELECT count(*) FROM records WHERE member_id = $1", bank.id) == 300
    print(f"records: {len(done)} answered, {len(busy)} told to retry")


async def test_concurrent_dispute_filings_with_one_key_file_one_dispute(http, registry):
    lender, owner = await registry.member(), await registry.member()
    s = token()
    assert (await submit(http, owner, *(delinquent(s, f"OWN-{n}") for n in range(50)))).status_code == 200
    body = {"subject": s, "reason": "not_mine", "statement": "Never borrowed there.", "consent_ref": "CONSENT-RACE"}
    headers = {**lender.headers, "Idempotency-Key": f"dispute-race-{lender.code}"}

    answers = await asyncio.gather(*(http.post("/v1/disputes", json=body, headers=headers) for _ in range(TOGETHER)))
    done, busy = sort_answers(list(answers), 202)

    count = registry.pool.fetchval
    assert await count("SELECT count(*) FROM disputes WHERE filed_by = $1", lender.id) == 1
    assert await count("SELECT id FROM disputes WHERE filed_by = $1", lender.id) == uuid.UUID(done[0].json()["id"])
    retry = await http.post("/v1/disputes", json=body, headers=headers)
    assert retry.status_code == 202 and retry.json() == done[0].json()
    assert await count("SELECT count(*) FROM disputes WHERE filed_by = $1", lender.id) == 1
    print(f"disputes: {len(done)} answered, {len(busy)} told to retry")
