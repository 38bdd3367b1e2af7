"""Data quality: live auto-loan and lease accounts reported without their vehicle are accepted
and counted, per member and for the industry."""

from __future__ import annotations

from tests.collateral.support import pledged, vehicle
from tests.factories import item, submit, token


async def test_vehicle_accounts_without_collateral_are_counted(http, registry):
    lender, other = await registry.member(), await registry.member()
    r = await submit(
        http,
        lender,
        item(token(), "AUTO-NO-CAR", product="auto_loan"),
        item(token(), "LEASE-NO-CAR", product="financial_lease"),
        pledged(token(), "AUTO-CAR", vehicle()),
        item(token(), "CARD", product="credit_card"),
        item(token(), "GONE", product="auto_loan"),
    )
    assert r.json()["summary"] == {"created": 5, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}
    gone = r.json()["results"][4]["record_id"]
    assert (await http.delete(f"/v1/records/{gone}", headers=lender.headers)).status_code == 200
    await submit(http, other, item(token(), "OTHER-NO-CAR", product="auto_loan"))

    body = (await http.get(f"/admin/stats/members/{lender.id}", headers=registry.admin.headers)).json()
    assert body["member"]["data_quality"] == {"vehicle_accounts_without_collateral": 2}
    industry = (await http.get("/admin/stats", headers=registry.admin.headers)).json()
    by_member = {m["member_id"]: m["data_quality"]["vehicle_accounts_without_collateral"] for m in industry["members"]}
    assert (by_member[str(lender.id)], by_member[str(other.id)]) == (2, 1)
    assert industry["industry"]["data_quality"]["vehicle_accounts_without_collateral"] == sum(by_member.values())


async def test_the_count_follows_reports_that_add_or_drop_the_vehicle(http, registry):
    lender = await registry.member()
    subject, car = token(), vehicle()

    async def count() -> int:
        body = (await http.get(f"/admin/stats/members/{lender.id}", headers=registry.admin.headers)).json()
        return body["member"]["data_quality"]["vehicle_accounts_without_collateral"]

    await submit(http, lender, pledged(subject, "SWAP", car, as_of="2026-09-30"))
    assert await count() == 0
    await submit(http, lender, item(subject, "SWAP", product="auto_loan", as_of="2026-10-31"))  # the car dropped
    assert await count() == 1
    await submit(http, lender, pledged(subject, "SWAP", car, as_of="2026-11-01"))  # and named again
    assert await count() == 0
    await submit(http, lender, item(subject, "SWAP", product="credit_card", as_of="2026-11-02"))  # no vehicle product
    assert await count() == 0
