"""Error mapping: one exception class per status, carrying the problem's fields and request id."""

from __future__ import annotations

import httpx
import pytest
import respx

from registry_client import (
    APIStatusError,
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryClient,
    RegistryError,
    ServerError,
    UnprocessableEntity,
)

from sdk_helpers import BASE_URL, CLIENT_ID, CLIENT_SECRET, REQUEST_ID, problem, record_id


@pytest.fixture
def no_retry_client(api: respx.MockRouter):
    with RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, max_retries=0) as client:
        yield client


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (410, APIStatusError),
        (413, APIStatusError),
        (422, UnprocessableEntity),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_status_maps_to_exception(
    no_retry_client: RegistryClient, api: respx.MockRouter, status: int, error: type
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=problem(status, "Some title", "Some detail")
    )
    with pytest.raises(error) as raised:
        no_retry_client.records.get(record_id(1))
    assert type(raised.value) is error
    assert isinstance(raised.value, RegistryError)
    assert raised.value.status == status
    assert raised.value.title == "Some title"
    assert raised.value.detail == "Some detail"
    assert raised.value.request_id == REQUEST_ID


def test_validation_problem_carries_field_errors(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    api.post("/v1/exposure").mock(
        return_value=problem(
            422,
            "Unprocessable content",
            "The request is not valid",
            type="urn:borrower-registry:problem:invalid",
            errors=[{"field": "consent_ref", "message": "required for loan_application"}],
        )
    )
    with pytest.raises(UnprocessableEntity) as raised:
        client.exposure.query(["a" * 64], purpose="loan_application")
    error = raised.value
    assert error.type == "urn:borrower-registry:problem:invalid"
    assert [(e.field, e.message) for e in error.errors] == [
        ("consent_ref", "required for loan_application")
    ]
    assert str(error) == (
        "422 Unprocessable content: The request is not valid "
        f"(consent_ref: required for loan_application) [request_id {REQUEST_ID}]"
    )


def test_request_id_falls_back_to_the_header(
    no_retry_client: RegistryClient, api: respx.MockRouter
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(
            502, text="<html>bad gateway</html>", headers={"X-Request-ID": "edge-7"}
        )
    )
    with pytest.raises(ServerError) as raised:
        no_retry_client.records.get(record_id(1))
    assert raised.value.request_id == "edge-7"
    assert raised.value.title == "Bad Gateway"
    assert raised.value.detail == "<html>bad gateway</html>"
    assert raised.value.body is None


def test_response_is_kept_on_the_exception(
    no_retry_client: RegistryClient, api: respx.MockRouter
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=problem(404, "Not found", "No such record")
    )
    with pytest.raises(NotFound) as raised:
        no_retry_client.records.get(record_id(1))
    assert raised.value.response.status_code == 404
    assert raised.value.body["detail"] == "No such record"
