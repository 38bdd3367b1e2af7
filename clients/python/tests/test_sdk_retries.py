"""Retries: which answers are retried, how long the client waits, the Idempotency-Key it reuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from registry_client import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryClient,
    ServerError,
    UnprocessableEntity,
)
from registry_client._base_client import backoff_seconds

from sdk_helpers import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_A,
    async_client,
    problem,
    record_id,
)

OK = httpx.Response(200, json={"results": []})


@pytest.mark.parametrize(
    ("statuses", "calls", "error"),
    [
        ([200], 1, None),
        ([408, 200], 2, None),
        ([409, 200], 2, None),
        ([429, 200], 2, None),
        ([500, 200], 2, None),
        ([502, 503, 200], 3, None),
        ([504, 504, 504], 3, ServerError),
        ([429, 429, 429], 3, RateLimited),
        ([409, 409, 409], 3, Conflict),
        ([400], 1, BadRequest),
        ([403], 1, PermissionDenied),
        ([404], 1, NotFound),
        ([422], 1, UnprocessableEntity),
    ],
)
def test_retry_table(
    client: RegistryClient,
    api: respx.MockRouter,
    sleeps: list[float],
    statuses: list[int],
    calls: int,
    error: type[Exception] | None,
) -> None:
    route = api.post("/v1/exposure").mock(
        side_effect=[OK if status == 200 else problem(status, "Failure") for status in statuses]
    )
    query = lambda: client.exposure.query([TOKEN_A], purpose="loan_application", consent_ref="c-1")  # noqa: E731
    if error is None:
        query()
    else:
        with pytest.raises(error):
            query()
    assert route.call_count == calls
    assert len(sleeps) == calls - 1
    assert all(0.5 <= delay <= 8 for delay in sleeps)


@pytest.mark.parametrize(("status", "verdict", "calls"), [(409, "false", 1), (400, "true", 3)])
def test_the_server_may_say_whether_to_retry(
    client: RegistryClient, api: respx.MockRouter, status: int, verdict: str, calls: int
) -> None:
    route = api.post("/admin/members").mock(
        return_value=httpx.Response(status, headers={"X-Should-Retry": verdict}, json={})
    )
    with pytest.raises(Conflict if status == 409 else BadRequest):
        client.admin.members.create(code="BANK001", name="First Bank", kind="bank")
    assert route.call_count == calls


def test_max_retries_zero_tries_once(api: respx.MockRouter, sleeps: list[float]) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(return_value=problem(503, "Unavailable"))
    with (
        RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, max_retries=0) as client,
        pytest.raises(ServerError),
    ):
        client.records.get(record_id(1))
    assert route.call_count == 1
    assert sleeps == []


def test_backoff_doubles_from_half_a_second_to_eight() -> None:
    for retries_taken, (low, high) in enumerate([(0.5, 1), (1, 2), (2, 4), (4, 8), (8, 8), (8, 8)]):
        delays = [backoff_seconds(retries_taken) for _ in range(200)]
        assert all(low <= delay <= high for delay in delays)
        if low < high:
            assert len(set(delays)) > 1, "backoff must be jittered"


def test_successive_retries_back_off_further(api: respx.MockRouter, sleeps: list[float]) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(return_value=problem(503, "Unavailable"))
    with (
        RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, max_retries=4) as patient,
        pytest.raises(ServerError),
    ):
        patient.records.get(record_id(1))
    assert (
        0.5 <= sleeps[0] <= 1
        and 1 <= sleeps[1] <= 2
        and 2 <= sleeps[2] <= 4
        and 4 <= sleeps[3] <= 8
    )


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("3", 3, 3),
        ("0", 0, 0),
        ("1.5", 1.5, 1.5),
        ("600", 60, 60),
        ("-4", 0, 0),
        (timedelta(seconds=20), 18, 20),
        (timedelta(seconds=-20), 0, 0),
        (timedelta(hours=2), 60, 60),
        ("soon", 0.5, 1),
    ],
    ids=[
        "seconds",
        "zero",
        "fraction",
        "capped",
        "negative",
        "http-date",
        "http-date-past",
        "http-date-capped",
        "garbage",
    ],
)
def test_retry_after_is_honoured(
    client: RegistryClient,
    api: respx.MockRouter,
    sleeps: list[float],
    retry_after: str | timedelta,
    low: float,
    high: float,
) -> None:
    if isinstance(retry_after, timedelta):
        # An HTTP-date, made here rather than at collection so the clock has not moved on.
        retry_after = format_datetime(datetime.now(UTC) + retry_after, usegmt=True)
    api.get(f"/v1/records/{record_id(1)}").mock(
        side_effect=[
            httpx.Response(
                429, json={"title": "Too many requests"}, headers={"Retry-After": retry_after}
            ),
            httpx.Response(200, json={"id": record_id(1), "account_ref": "A1"}),
        ]
    )
    client.records.get(record_id(1))
    assert len(sleeps) == 1
    assert low <= sleeps[0] <= high


def test_retry_after_on_503(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "7"}),
            httpx.Response(200, json={"id": record_id(1), "account_ref": "A1"}),
        ]
    )
    client.records.get(record_id(1))
    assert sleeps == [7.0]


def test_connection_errors_are_retried(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"id": record_id(1), "account_ref": "A1"}),
        ]
    )
    assert client.records.get(record_id(1)).id == record_id(1)
    assert route.call_count == 2
    assert len(sleeps) == 1


def test_connection_errors_exhausted(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError, match="refused") as raised:
        client.records.get(record_id(1))
    assert not isinstance(raised.value, APITimeoutError)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert route.call_count == 3


def test_timeouts_raise_api_timeout_error(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        client.records.get(record_id(1))
    assert route.call_count == 3


def test_idempotency_key_is_reused_on_every_retry(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/exposure").mock(
        side_effect=[
            problem(500, "Boom"),
            httpx.ConnectError("reset"),
            httpx.Response(200, json={"results": []}),
        ]
    )
    client.exposure.query([TOKEN_A], purpose="loan_application", consent_ref="c-1")
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert route.call_count == 3
    assert len(keys) == 1


def test_each_call_gets_its_own_idempotency_key(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/exposure").mock(return_value=httpx.Response(200, json={"results": []}))
    for _ in range(2):
        client.exposure.query([TOKEN_A], purpose="loan_application", consent_ref="c-1")
    first, second = (call.request.headers["Idempotency-Key"] for call in route.calls)
    assert first != second


def test_reads_and_token_requests_carry_no_idempotency_key(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(200, json={"id": record_id(1), "account_ref": "A1"})
    )
    client.records.get(record_id(1))
    assert "Idempotency-Key" not in route.calls.last.request.headers
    assert "Idempotency-Key" not in api["token"].calls.last.request.headers


def test_delete_carries_an_idempotency_key(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.delete(f"/v1/records/{record_id(1)}").mock(
        side_effect=[problem(502, "Bad gateway"), httpx.Response(204)]
    )
    client.records.withdraw(record_id(1))
    assert route.call_count == 2
    assert (
        route.calls[0].request.headers["Idempotency-Key"]
        == route.calls[1].request.headers["Idempotency-Key"]
    )


def test_token_endpoint_is_retried_too(api: respx.MockRouter, sleeps: list[float]) -> None:
    api["token"].mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(
                200, json={"access_token": "jwt-x", "token_type": "Bearer", "expires_in": 900}
            ),
        ]
    )
    api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(200, json={"id": record_id(1), "account_ref": "A1"})
    )
    with RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET) as client:
        client.records.get(record_id(1))
    assert api["token"].call_count == 2
    assert len(sleeps) == 1


def test_401_is_not_counted_as_a_retry(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=problem(401, "Unauthenticated")
    )
    with pytest.raises(AuthenticationError):
        client.records.get(record_id(1))
    assert route.call_count == 2  # first token, then one fresh token
    assert sleeps == []


@pytest.mark.asyncio
async def test_async_client_retries_with_the_same_key(
    api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.post("/v1/exposure").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.ConnectError("reset"),
            httpx.Response(200, json={"results": []}),
        ]
    )
    async with async_client() as client:
        await client.exposure.query([TOKEN_A], purpose="loan_application", consent_ref="c-1")
    assert route.call_count == 3
    assert sleeps[0] == 2.0 and 1 <= sleeps[1] <= 2
    assert len({call.request.headers["Idempotency-Key"] for call in route.calls}) == 1


@pytest.mark.asyncio
async def test_async_client_raises_after_retries(
    api: respx.MockRouter, sleeps: list[float]
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(side_effect=httpx.ReadTimeout("slow"))
    async with async_client(max_retries=1) as client:
        with pytest.raises(APITimeoutError):
            await client.records.get(record_id(1))
    assert len(sleeps) == 1
