"""Double pledges: a vehicle backing live accounts at two members alerts both, each about its
own account and never naming the other member, exactly once per pair of accounts, whether the
second account came through POST /v1/records or an upload; and by signed webhook."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from registry.monitoring.signatures import HEADER, verify
from tests.collateral.support import pledged, vehicle
from tests.factories import item, submit, token
from tests.monitoring_support import Receiver, all_alerts

KIND = "collateral.double_pledge"


def pledge_alerts(alerts):
    return [a for a in alerts if a["kind"] == KIND]


async def test_both_members_are_told_once_per_pair_through_records(http, registry):
    first, second, bystander = await registry.member(), await registry.member(), await registry.member()
    car = vehicle()
    r = await submit(http, first, pledged(token(), "FIRST-CAR", car))
    first_record = r.json()["results"][0]["record_id"]
    assert pledge_alerts(await all_alerts(http, first)) == []  # one pledge alone is no alert

    r = await submit(http, second, pledged(token(), "SECOND-CAR", car))
    second_record = r.json()["results"][0]["record_id"]
    [to_first] = pledge_alerts(await all_alerts(http, first, expect=1))
    [to_second] = pledge_alerts(await all_alerts(http, second, expect=1))
    assert set(to_first) == {"id", "subject", "label", "kind", "status", "account_ref", "record_id", "at"}
    assert (to_first["account_ref"], to_first["record_id"], to_first["subject"]) == ("FIRST-CAR", first_record, None)
    assert (to_second["account_ref"], to_second["record_id"]) == ("SECOND-CAR", second_record)
    for member, other, other_ref in ((first, second, "SECOND-CAR"), (second, first, "FIRST-CAR")):
        raw = (await http.get("/v1/alerts", headers=member.headers)).text
        for secret in (str(other.id), other.code, other.name, other_ref, car):
            assert secret not in raw
    assert await all_alerts(http, bystander) == []

    # Reported again (unchanged, then updated), the same pair raises nothing more.
    await submit(http, second, pledged(token(), "SECOND-CAR", car))
    await submit(http, first, pledged(token(), "FIRST-CAR", car, as_of="2026-11-02", outstanding_amount="7000.00"))
    assert len(pledge_alerts(await all_alerts(http, first))) == 1
    assert len(pledge_alerts(await all_alerts(http, second))) == 1

    # A third lender makes two new pairs: one more alert for each of the first two, two for it.
    third = await registry.member()
    await submit(http, third, pledged(token(), "THIRD-CAR", car))
    assert len(pledge_alerts(await all_alerts(http, first, expect=2))) == 2
    assert len(pledge_alerts(await all_alerts(http, second, expect=2))) == 2
    assert sorted(a["account_ref"] for a in pledge_alerts(await all_alerts(http, third, expect=2))) == [
        "THIRD-CAR",
        "THIRD-CAR",
    ]


async def test_settled_or_own_accounts_are_no_double_pledge(http, registry):
    lender, other = await registry.member(), await registry.member()
    car = vehicle()
    # One member refinancing its own car loan is not a double pledge.
    await submit(http, lender, pledged(token(), "OLD", car), pledged(token(), "NEW", car))
    # A settled loan no longer holds the car.
    settled = pledged(token(), "PAID", vehicle(), status="settled", closed_on="2026-10-01", outstanding_amount="0")
    await submit(http, other, settled)
    await submit(http, lender, pledged(token(), "AFTER", settled["collateral"]["token"]))
    assert pledge_alerts(await all_alerts(http, lender)) == []
    assert pledge_alerts(await all_alerts(http, other)) == []


COLUMNS = [
    "subject",
    "subject_type",
    "account_ref",
    "product",
    "status",
    "principal_amount",
    "outstanding_amount",
    "as_of",
    "parties",
    "collateral",
]


def csv_upload(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_uploads_carry_parties_and_collateral_and_raise_the_alert_once(http, registry, fmt):
    first, second = await registry.member(), await registry.member()
    car, guarantor = vehicle(), token()
    await submit(http, first, pledged(token(), "API-CAR", car))
    lines = [
        pledged(
            token(), "UP-CAR", car, parties=[{"subject": guarantor, "subject_type": "individual", "role": "guarantor"}]
        ),
        item(token(), "UP-PLAIN"),
    ]
    if fmt == "csv":
        rows = [{k: v for k, v in line.items() if k in COLUMNS} for line in lines]
        rows[0]["parties"] = f"guarantor:individual:{guarantor}"
        rows[0]["collateral"] = f"vehicle:{car}"
        body, content_type = csv_upload(rows), "text/csv"
    else:
        body, content_type = b"".join(orjson.dumps(line) + b"\n" for line in lines), "application/x-ndjson"
    for attempt in range(2):  # the same file twice: unchanged, and no second alert
        r = await http.post("/v1/uploads", content=body, headers={**second.headers, "Content-Type": content_type})
        assert r.status_code == 202, r.text
        job = r.json()
        assert (job["created"], job["unchanged"], job["rejected"]) == ((2, 0, 0) if attempt == 0 else (0, 2, 0))

    [record] = [
        x
        for x in (await http.get("/v1/records", headers=second.headers)).json()["data"]
        if x["account_ref"] == "UP-CAR"
    ]
    assert record["parties"] == [{"subject_type": "individual", "role": "guarantor"}]
    assert record["collateral"] == {"kind": "vehicle"}
    assert [a["account_ref"] for a in pledge_alerts(await all_alerts(http, second, expect=1))] == ["UP-CAR"]
    assert [a["account_ref"] for a in pledge_alerts(await all_alerts(http, first, expect=1))] == ["API-CAR"]


async def test_a_malformed_parties_cell_is_a_line_error(http, registry):
    member = await registry.member()
    row = {k: v for k, v in item(token(), "CSV-BAD").items() if k in COLUMNS}
    row["parties"] = "guarantor;individual"
    row["collateral"] = "vehicle:not-a-token"
    r = await http.post(
        "/v1/uploads", content=csv_upload([row]), headers={**member.headers, "Content-Type": "text/csv"}
    )
    job = r.json()
    assert job["rejected"] == 1
    report = (await http.get(f"/v1/uploads/{job['id']}/errors", headers=member.headers)).content
    [line] = [orjson.loads(x) for x in report.splitlines()]
    fields = {e["field"] for e in line["errors"]}
    assert fields == {"parties", "collateral.token"}, line


async def test_the_alert_goes_out_by_signed_webhook(http, registry, app):
    receiver = Receiver()
    first, second = await registry.member(), await registry.member()
    secret = "double-pledge-secret-0123456789"
    assert (
        await http.put("/v1/webhook", json={"url": receiver.url, "secret": secret}, headers=first.headers)
    ).status_code == 200
    try:
        car = vehicle()
        await submit(http, first, pledged(token(), "HOOK-CAR", car))
        await submit(http, second, pledged(token(), "HOOK-OTHER", car))
        await app.state.runtime.deliveries.run_once()
        [got] = [r for r in receiver.received if b"HOOK-CAR" in r.body]
        verify(got.body, got.headers[HEADER.lower()], secret)
        payload = orjson.loads(got.body)
        [alert] = pledge_alerts(await all_alerts(http, first, expect=1))
        assert payload["data"] == alert and alert["account_ref"] == "HOOK-CAR"
        for leak in (str(second.id), second.code, "HOOK-OTHER"):
            assert leak not in got.body.decode()
    finally:
        await http.delete("/v1/webhook", headers=first.headers)
        receiver.close()
