"""Exposure: chunks of 1000 merged in order, and checks made before any inquiry is recorded."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from registry_client import RegistryClient
from registry_client.types import Purpose

from sdk_helpers import TOKEN_A, TOKEN_B, async_client

ANSWER = {
    "subject": TOKEN_A,
    "found": True,
    "institutions_reporting": 2,
    "institutions_delinquent": 1,
    "accounts": {
        "total": 3,
        "delinquent": 1,
        "by_status": {"current": 2, "dpd_31_60": 1},
        "by_product": {"auto_loan": 2, "consumer_loan": 1},
    },
    "worst_status": "dpd_31_60",
    "worst_status_24m": "dpd_61_90",
    "overdue_amounts": {"CNY": "6200.00"},
    "outstanding_amounts": {"CNY": "150000.00"},
    "latest_delinquent_since": "2026-09-20",
    "uncollected_delinquent_accounts": 1,
    "disputed": False,
    "hard_inquiries": {"last_30d": 1, "last_90d": 2, "institutions_30d": 1, "institutions_90d": 2},
    "own": {"accounts": 1, "delinquent": 0, "worst_status": "current"},
}


def not_found(request: httpx.Request) -> httpx.Response:
    subjects = json.loads(request.content)["subjects"]
    return httpx.Response(200, json={"results": [{"subject": s, "found": False} for s in subjects]})


def test_query_parses_the_documented_answer(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/exposure").mock(
        return_value=httpx.Response(200, json={"results": [ANSWER]})
    )
    answer = client.exposure.query(
        [TOKEN_A.upper()], purpose=Purpose.LOAN_APPLICATION, consent_ref="AUTH-2026-001"
    )
    assert json.loads(route.calls.last.request.content) == {
        "subjects": [TOKEN_A],
        "purpose": "loan_application",
        "consent_ref": "AUTH-2026-001",
    }
    result = answer.results[0]
    assert result.accounts.by_status == {"current": 2, "dpd_31_60": 1}
    assert str(result.overdue_amounts["CNY"]) == "6200.00"
    assert result.hard_inquiries.institutions_90d == 2
    assert result.own.worst_status == "current"
    assert result.latest_delinquent_since.isoformat() == "2026-09-20"


def test_consent_ref_is_omitted_when_not_given(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/exposure").mock(side_effect=not_found)
    client.exposure.query([TOKEN_A], purpose="account_review")
    assert json.loads(route.calls.last.request.content) == {
        "subjects": [TOKEN_A],
        "purpose": "account_review",
    }


def test_query_is_chunked_by_1000_and_merged_in_order(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/exposure").mock(side_effect=not_found)
    subjects = [f"{n:064x}" for n in range(2001)]
    answer = client.exposure.query(subjects, purpose="loan_application", consent_ref="c")
    assert [len(json.loads(call.request.content)["subjects"]) for call in route.calls] == [
        1000,
        1000,
        1,
    ]
    assert [r.subject for r in answer.results] == subjects
    assert not any(r.found for r in answer.results)


@pytest.mark.parametrize(
    ("subjects", "message"),
    [
        ([TOKEN_A, "11010519491231002X"], r"subjects\[1\] is not a brs1 token"),
        ([TOKEN_A, TOKEN_B, TOKEN_A.upper()], r"subjects\[2\] repeats subjects\[0\]"),
    ],
)
def test_bad_subjects_are_refused_before_anything_is_sent(
    client: RegistryClient, api: respx.MockRouter, subjects: list[str], message: str
) -> None:
    route = api.post("/v1/exposure")
    with pytest.raises(ValueError, match=message):
        client.exposure.query(subjects, purpose="loan_application", consent_ref="c")
    assert route.call_count == 0


def test_a_duplicate_in_a_later_chunk_stops_the_first_chunk_too(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/exposure")
    subjects = [f"{n:064x}" for n in range(1500)] + [f"{0:064x}"]
    with pytest.raises(ValueError):
        client.exposure.query(subjects, purpose="loan_application", consent_ref="c")
    assert route.call_count == 0


def test_unknown_purpose_is_refused(client: RegistryClient, api: respx.MockRouter) -> None:
    with pytest.raises(ValueError, match="Purpose"):
        client.exposure.query([TOKEN_A], purpose="curiosity")


def test_no_subjects_means_no_request(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/exposure")
    assert client.exposure.query([], purpose="loan_application", consent_ref="c").results == []
    assert route.call_count == 0


@pytest.mark.asyncio
async def test_async_query(api: respx.MockRouter) -> None:
    route = api.post("/v1/exposure").mock(side_effect=not_found)
    async with async_client() as client:
        answer = await client.exposure.query([TOKEN_A, TOKEN_B], purpose="collection")
    assert [r.subject for r in answer.results] == [TOKEN_A, TOKEN_B]
    assert route.call_count == 1
