"""What the dispute tests share: the clock they file at, and small calls (file a dispute,
ask the exposure answer, read one record)."""

from datetime import UTC, datetime, timedelta

from tests.factories import item

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=20)


async def exposure(http, member, subject, purpose="loan_application"):
    body = {"subjects": [subject], "purpose": purpose}
    if purpose in ("loan_application", "dispute_investigation"):
        body["consent_ref"] = "CONSENT-D"
    return await http.post("/v1/exposure", json=body, headers=member.headers)


async def answer(http, member, subject):
    r = await exposure(http, member, subject)
    assert r.status_code == 200, r.text
    return r.json()["results"][0]


async def record_of(http, member, record_id):
    r = await http.get(f"/v1/records/{record_id}", headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()


def delinquent(subject, ref, **fields):
    return item(subject, ref, status="dpd_61_90", overdue_amount="3000", outstanding_amount="8000", **fields)


async def file(http, member, subject, **fields):
    body = {"subject": subject, "reason": "already_settled", "statement": "I repaid both loans in August.", **fields}
    return await http.post("/v1/disputes", json=body, headers=member.headers)


async def filed(http, world):
    r = await file(http, world["a"], world["subject"])
    assert r.status_code == 202, r.text
    return r.json()


async def resolve(http, registry, dispute_id, resolution, note="Checked with both lenders"):
    return await http.patch(
        f"/admin/disputes/{dispute_id}", json={"resolution": resolution, "note": note}, headers=registry.admin.headers
    )
