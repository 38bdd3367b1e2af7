"""Per-call options and client copies: `with_options`, `timeout`, `extra_headers`,
`idempotency_key`, `with_raw_response`, and what the debug log says."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import respx

from registry_client import APIResponse, RegistryClient, ServerError
from registry_client.types import Record

from sdk_helpers import REQUEST_ID, async_client, problem, record_id

RECORD = {"id": record_id(1), "account_ref": "A-1"}


def test_with_options_changes_retries_for_its_calls_only(
    api: respx.MockRouter, client: RegistryClient
) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(return_value=problem(503, "Unavailable"))
    with pytest.raises(ServerError):
        client.with_options(max_retries=0).records.get(record_id(1))
    assert route.call_count == 1
    with pytest.raises(ServerError):
        client.records.get(record_id(1))
    assert route.call_count == 1 + 3
    assert api["token"].call_count == 1  # the copy and the client share one access token


def test_timeout_per_call_and_per_copy(api: respx.MockRouter, client: RegistryClient) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").respond(json=RECORD)
    client.records.get(record_id(1), timeout=7.5)
    client.with_options(timeout=httpx.Timeout(99.0)).records.get(record_id(1))
    client.records.get(record_id(1))
    timeouts = [call.request.extensions["timeout"]["read"] for call in route.calls]
    assert timeouts == [7.5, 99.0, 30.0]


def test_extra_headers_and_a_chosen_idempotency_key_stay_on_every_retry(
    api: respx.MockRouter, client: RegistryClient
) -> None:
    route = api.delete(f"/v1/records/{record_id(1)}").mock(
        side_effect=[problem(503, "Unavailable"), httpx.Response(204), httpx.Response(204)]
    )
    client.records.withdraw(
        record_id(1), extra_headers={"X-Trace": "t-1"}, idempotency_key="withdraw-A-1"
    )
    sent = [call.request for call in route.calls]
    assert [r.headers["idempotency-key"] for r in sent] == ["withdraw-A-1"] * 2
    assert [r.headers["x-trace"] for r in sent] == ["t-1"] * 2
    assert "x-trace" not in api["token"].calls.last.request.headers  # never on the token request
    client.records.withdraw(record_id(1))
    assert route.calls.last.request.headers["idempotency-key"] != "withdraw-A-1"


def test_raw_response_gives_status_headers_and_the_parsed_body(
    api: respx.MockRouter, client: RegistryClient
) -> None:
    api.get(f"/v1/records/{record_id(1)}").respond(
        json=RECORD, headers={"X-Request-ID": REQUEST_ID}
    )
    raw = client.with_raw_response.records.get(record_id(1))
    assert isinstance(raw, APIResponse) and raw.status == 200 and raw.request_id == REQUEST_ID
    assert isinstance(raw.parsed, Record) and raw.parsed.account_ref == "A-1"


@pytest.mark.asyncio
async def test_raw_response_of_the_async_client(api: respx.MockRouter) -> None:
    api.get(f"/v1/records/{record_id(1)}").respond(json=RECORD, status_code=200)
    async with async_client() as client:
        raw = await client.with_raw_response.records.get(record_id(1))
        assert raw.status == 200 and raw.parsed.id == record_id(1)


def test_debug_log_names_requests_and_never_credentials(
    api: respx.MockRouter, client: RegistryClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(f"/v1/records/{record_id(1)}").respond(json=RECORD)
    with caplog.at_level(logging.DEBUG, logger="registry_client"):
        client.records.get(record_id(1))
    text = caplog.text
    assert "request POST /oauth/token" in text and f"GET /v1/records/{record_id(1)}" in text
    assert "jwt-1" not in text and client._client_secret not in text and "Basic" not in text


def test_a_chosen_key_names_each_request_of_a_call_sent_in_several(
    api: respx.MockRouter, client: RegistryClient
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        count = len(json.loads(request.content)["records"])
        results = [{"index": i, "outcome": "created"} for i in range(count)]
        return httpx.Response(200, json={"results": results, "summary": {"created": count}})

    route = api.post("/v1/records").mock(side_effect=answer)
    items = [
        {"subject": "a" * 64, "subject_type": "individual", "account_ref": f"A-{i}",
         "product": "other", "status": "current", "as_of": "2026-11-30",
         "principal_amount": "100.00", "outstanding_amount": "80.00"}
        for i in range(1001)
    ]  # fmt: skip
    client.records.submit(items, idempotency_key="nov-batch")
    client.records.submit(items, idempotency_key="nov-batch")
    keys = [call.request.headers["idempotency-key"] for call in route.calls]
    assert keys == ["nov-batch", "nov-batch.2"] * 2  # the same names when the call is repeated
