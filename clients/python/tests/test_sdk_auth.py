"""Access tokens: fetched with client_secret_basic, cached, renewed before expiry and on a 401."""

from __future__ import annotations

import base64
import itertools
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from registry_client import AuthenticationError, RegistryClient, RegistryError
from registry_client._base_client import RequestOptions

from sdk_helpers import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    HASHING_KEY,
    async_client,
    problem,
    record_id,
    token_grant,
)

RECORD = {"id": record_id(1), "account_ref": "A1"}


def test_token_request_is_client_credentials_with_basic_auth(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(return_value=httpx.Response(200, json=RECORD))
    client.records.get(record_id(1))
    request = api["token"].calls.last.request
    scheme, encoded = request.headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}


def test_scope_narrows_the_token_request(api: respx.MockRouter) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(return_value=httpx.Response(200, json=RECORD))
    with RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, scope="records:read") as client:
        client.records.get(record_id(1))
    assert parse_qs(api["token"].calls.last.request.content.decode())["scope"] == ["records:read"]


def test_token_is_fetched_once_and_reused(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(200, json=RECORD)
    )
    for _ in range(3):
        client.records.get(record_id(1))
    assert api["token"].call_count == 1
    assert {call.request.headers["Authorization"] for call in route.calls} == {"Bearer jwt-1"}


def test_token_is_renewed_before_it_expires(client: RegistryClient, api: respx.MockRouter) -> None:
    now = [1000.0]
    client._now = lambda: now[0]  # type: ignore[method-assign]
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(200, json=RECORD)
    )
    client.records.get(record_id(1))
    now[0] += 900 - 61  # just before the 60 s renewal margin
    client.records.get(record_id(1))
    now[0] += 2  # inside the margin: renew although the token has not expired yet
    client.records.get(record_id(1))
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer jwt-1",
        "Bearer jwt-1",
        "Bearer jwt-2",
    ]


def test_short_lived_tokens_renew_at_half_life(api: respx.MockRouter) -> None:
    api["token"].mock(side_effect=token_grant(itertools.count(1), expires_in=30))
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(200, json=RECORD)
    )
    with RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET) as client:
        now = [0.0]
        client._now = lambda: now[0]  # type: ignore[method-assign]
        client.records.get(record_id(1))
        now[0] = 14
        client.records.get(record_id(1))
        now[0] = 15
        client.records.get(record_id(1))
    assert [c.request.headers["Authorization"] for c in route.calls] == [
        "Bearer jwt-1",
        "Bearer jwt-1",
        "Bearer jwt-2",
    ]


def test_a_401_renews_the_token_once(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        side_effect=[problem(401, "Unauthenticated"), httpx.Response(200, json=RECORD)]
    )
    assert client.records.get(record_id(1)).id == record_id(1)
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer jwt-1",
        "Bearer jwt-2",
    ]


def test_a_second_401_is_raised(client: RegistryClient, api: respx.MockRouter) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=problem(401, "Unauthenticated", "client revoked")
    )
    with pytest.raises(AuthenticationError, match="client revoked"):
        client.records.get(record_id(1))
    assert api["token"].call_count == 2


def test_bad_credentials_raise_authentication_error(api: respx.MockRouter) -> None:
    api["token"].mock(
        return_value=httpx.Response(
            401, json={"error": "invalid_client", "error_description": "unknown client"}
        )
    )
    with (
        RegistryClient(BASE_URL, CLIENT_ID, "wrong") as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        client.records.get(record_id(1))
    assert raised.value.title == "invalid_client"
    assert raised.value.detail == "unknown client"
    assert api["token"].call_count == 1


def test_configuration_comes_from_the_environment(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_URL", BASE_URL + "/")
    monkeypatch.setenv("REGISTRY_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("REGISTRY_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("REGISTRY_HASHING_KEY", HASHING_KEY)
    api.get(f"/v1/records/{record_id(1)}").mock(return_value=httpx.Response(200, json=RECORD))
    with RegistryClient() as client:
        client.records.get(record_id(1))
        assert client.subject("cn_resident_id", "11010519491231002X") == (
            "197809837417cea4f460dc78c1d99967e46957792b7365ff0056152f09ce83f3"
        )
    assert api["token"].call_count == 1


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", "https://elsewhere.test")
    monkeypatch.setenv("REGISTRY_CLIENT_ID", "env-id")
    client = RegistryClient(BASE_URL, "arg-id")
    assert str(client.base_url) == BASE_URL + "/"
    assert client.client_id == "arg-id"


def test_base_url_path_is_kept() -> None:
    client = RegistryClient("https://gateway.test/registry")
    request = client._build_request(RequestOptions("GET", "/v1/records"), {})
    assert str(request.url) == "https://gateway.test/registry/v1/records"


def test_missing_url_is_a_clear_error() -> None:
    with pytest.raises(RegistryError, match="REGISTRY_URL"):
        RegistryClient()


@pytest.mark.parametrize("url", ["registry.test", "ftp://registry.test", "http://"])
def test_a_url_without_scheme_or_host_is_a_clear_error(url: str) -> None:
    with pytest.raises(RegistryError, match="not an http"):
        RegistryClient(url)


def test_missing_credentials_is_a_clear_error(api: respx.MockRouter) -> None:
    with (
        RegistryClient(BASE_URL) as client,
        pytest.raises(RegistryError, match="REGISTRY_CLIENT_ID"),
    ):
        client.records.get(record_id(1))
    assert api["token"].call_count == 0


def test_subject_needs_a_hashing_key() -> None:
    with pytest.raises(RegistryError, match="REGISTRY_HASHING_KEY"):
        RegistryClient(BASE_URL).subject("passport", "CHN:E1")


def test_a_bad_hashing_key_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="hashing key"):
        RegistryClient(BASE_URL, hashing_key="not-hex")


def test_secret_is_not_in_repr() -> None:
    assert CLIENT_SECRET not in repr(RegistryClient(BASE_URL, CLIENT_ID, CLIENT_SECRET))


@pytest.mark.asyncio
async def test_async_client_renews_once_on_401(api: respx.MockRouter) -> None:
    route = api.get(f"/v1/records/{record_id(1)}").mock(
        side_effect=[problem(401, "Unauthenticated"), httpx.Response(200, json=RECORD)]
    )
    async with async_client() as client:
        assert (await client.records.get(record_id(1))).id == record_id(1)
        assert client.subject("passport", "chn:e12345678") == (
            "e4e9aea886df4cb04bb33dfb303ec96a5aba83bc98f700305c712b51d620ef53"
        )
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer jwt-1",
        "Bearer jwt-2",
    ]
