"""Vehicle watches: a member watches the vehicle of its own live account and is alerted, once
per account, when the vehicle appears on another member's account; it cannot watch a vehicle
it does not lend against; a vehicle watch is listed and removed apart from borrower watches."""

from __future__ import annotations

from tests.collateral.support import pledged, vehicle
from tests.factories import item, submit, token
from tests.monitoring_support import all_alerts

KIND = "collateral.watched_vehicle"


async def watch(http, member, vehicles, **extra):
    return await http.post(
        "/v1/watches", json={"kind": "vehicle", "subjects": vehicles, **extra}, headers=member.headers
    )


async def test_a_watched_vehicle_on_another_members_account_alerts_the_watcher_once(http, registry):
    watcher, other, third = await registry.member(), await registry.member(), await registry.member()
    car = vehicle()
    await submit(http, watcher, pledged(token(), "MY-CAR", car))
    r = await watch(http, watcher, [car], label="fleet")
    assert r.status_code == 200 and r.json() == {"created": 1, "existing": 0}, r.text
    assert (await watch(http, watcher, [car])).json() == {"created": 0, "existing": 1}

    listed = (await http.get("/v1/watches", params={"kind": "vehicle"}, headers=watcher.headers)).json()["data"]
    assert [(w["subject"], w["label"]) for w in listed] == [(car, "fleet")]
    assert (await http.get("/v1/watches", headers=watcher.headers)).json()["data"] == []  # borrower watches apart

    settled = {"status": "settled", "closed_on": "2026-10-01", "outstanding_amount": "0"}
    await submit(http, other, pledged(token(), "OTHER-CAR", car, **settled))
    [alert] = [a for a in await all_alerts(http, watcher, expect=1) if a["kind"] == KIND]
    assert (alert["subject"], alert["label"], alert["status"]) == (car, "fleet", "settled")
    raw = (await http.get("/v1/alerts", headers=watcher.headers)).text
    for secret in (str(other.id), other.code, other.name, "OTHER-CAR"):
        assert secret not in raw
    # The same account again, updated: no second alert; the other member is not alerted.
    await submit(http, other, pledged(token(), "OTHER-CAR", car, as_of="2026-11-01", **settled))
    assert len([a for a in await all_alerts(http, watcher) if a["kind"] == KIND]) == 1
    assert await all_alerts(http, other) == []
    # Another member's account is another alert.
    await submit(http, third, pledged(token(), "THIRD-CAR", car, **settled))
    assert len([a for a in await all_alerts(http, watcher, expect=2) if a["kind"] == KIND]) == 2


async def test_only_vehicles_of_own_live_accounts_can_be_watched(http, registry):
    member, other = await registry.member(), await registry.member()
    theirs, mine = vehicle(), vehicle()
    await submit(http, other, pledged(token(), "THEIRS", theirs))
    await submit(http, member, pledged(token(), "MINE", mine), item(token(), "NO-CAR"))
    r = await watch(http, member, [mine, theirs])
    assert r.status_code == 403, r.text
    assert [e["message"] for e in r.json()["errors"]] == [f"no live account of yours: {theirs}"]
    assert (await http.get("/v1/watches", params={"kind": "vehicle"}, headers=member.headers)).json()["data"] == []
    # A borrower watch on a vin token is refused the same way (no record has it as subject).
    assert (await http.post("/v1/watches", json={"subjects": [mine]}, headers=member.headers)).status_code == 403


async def test_a_vehicle_watch_is_removed_by_kind(http, registry):
    member = await registry.member()
    car = vehicle()
    await submit(http, member, pledged(token(), "RM-CAR", car))
    assert (await watch(http, member, [car])).status_code == 200
    assert (await http.delete(f"/v1/watches/{car}", headers=member.headers)).status_code == 404
    assert (
        await http.delete(f"/v1/watches/{car}", params={"kind": "vehicle"}, headers=member.headers)
    ).status_code == 204
    assert (await http.get("/v1/watches", params={"kind": "vehicle"}, headers=member.headers)).json()["data"] == []
    bad = await http.get("/v1/watches", params={"kind": "boat"}, headers=member.headers)
    assert bad.status_code == 422
