"""Parties, collateral and vehicle checks in the SDK: the documented shapes go out and come back."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
import respx

from registry_client import RegistryClient
from registry_client.types import Collateral, Party, RecordItem

from sdk_helpers import TOKEN_A, TOKEN_B, async_client

VIN = "4fab577edf88b4c4d6e6cb5fa6cbdc6ac142db0a0cca9639bd91b2294dee614b"
VEHICLE = {
    "vehicle": VIN,
    "found": True,
    "live_accounts_elsewhere": 1,
    "institutions_elsewhere": 1,
    "delinquent_elsewhere": 0,
    "latest_opened_on": "2025-06-01",
    "own": {"accounts": 0},
}


def test_vehicle_check_parses_the_documented_answer(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/collateral/exposure").mock(
        return_value=httpx.Response(200, json={"results": [VEHICLE]})
    )
    answer = client.collateral.exposure(
        [VIN.upper()], purpose="loan_application", consent_ref="AUTH-1"
    )
    assert json.loads(route.calls.last.request.content) == {
        "vehicles": [VIN],
        "purpose": "loan_application",
        "consent_ref": "AUTH-1",
    }
    [result] = answer.results
    assert (result.live_accounts_elsewhere, result.latest_opened_on) == (1, date(2025, 6, 1))


def test_a_raw_vin_is_refused_before_anything_is_sent(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    with pytest.raises(ValueError):
        client.collateral.exposure(
            ["LSGPC52UXCF000001"], purpose="loan_application", consent_ref="A"
        )
    assert not api.calls


def test_record_items_carry_parties_and_collateral(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    created = {"index": 0, "account_ref": "PF-1", "outcome": "created", "record_id": "r-1"}
    route = api.post("/v1/records").mock(
        return_value=httpx.Response(200, json={"results": [created], "summary": {"created": 1}})
    )
    item = RecordItem(
        subject=TOKEN_A,
        subject_type="enterprise",
        account_ref="PF-1",
        product="auto_loan",
        status="current",
        as_of=date(2026, 10, 31),
        principal_amount=Decimal("1000.00"),
        outstanding_amount=Decimal("900.00"),
        parties=[Party(subject=TOKEN_B, subject_type="individual", role="guarantor")],
        collateral=Collateral(token=VIN),
    )
    client.records.submit([item])
    [sent] = json.loads(route.calls.last.request.content)["records"]
    assert sent["parties"] == [
        {"subject": TOKEN_B, "subject_type": "individual", "role": "guarantor"}
    ]
    assert sent["collateral"] == {"kind": "vehicle", "token": VIN}


def test_contingent_figures_are_parsed(client: RegistryClient, api: respx.MockRouter) -> None:
    contingent = {
        "accounts": 2,
        "delinquent": 2,
        "worst_status": "dpd_61_90",
        "outstanding_amounts": {"CNY": "800000.00"},
        "overdue_amounts": {"CNY": "80000.00"},
        "by_role": {"guarantor": {"accounts": 2, "delinquent": 2}},
    }
    api.post("/v1/exposure").mock(
        return_value=httpx.Response(
            200, json={"results": [{"subject": TOKEN_A, "found": False, "contingent": contingent}]}
        )
    )
    [result] = client.exposure.query([TOKEN_A], purpose="loan_application", consent_ref="A").results
    assert result.contingent.by_role["guarantor"].delinquent == 2
    assert result.contingent.overdue_amounts["CNY"] == Decimal("80000.00")


@pytest.mark.asyncio
async def test_async_vehicle_check_and_vehicle_watch(api: respx.MockRouter) -> None:
    api.post("/v1/collateral/exposure").mock(
        return_value=httpx.Response(200, json={"results": [VEHICLE]})
    )
    watch = api.post("/v1/watches").mock(
        return_value=httpx.Response(200, json={"created": 1, "existing": 0})
    )
    async with async_client() as client:
        answer = await client.collateral.exposure([VIN], purpose="account_review")
        assert answer.results[0].vehicle == VIN
        await client.watches.add([VIN], kind="vehicle")
    assert json.loads(watch.calls.last.request.content) == {"kind": "vehicle", "subjects": [VIN]}
