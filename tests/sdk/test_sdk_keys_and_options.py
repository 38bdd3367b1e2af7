"""The SDK's `private_key_jwt` authentication and its per-call options, against a real
server process: a client registered with a public key gets tokens with signed assertions
(a fresh one for each request); `idempotency_key`, `extra_headers`, `with_options` and
`with_raw_response` change what reaches the server and what comes back; the debug log and
every repr keep the secrets out."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from registry_client import APIResponse, AuthenticationError, RegistryClient, UnprocessableEntity, public_jwk
from registry_client.types import Member, Record
from tests.factories import item, token
from tests.sdk.support import admin_client, member_client


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    "new_key", [ed25519.Ed25519PrivateKey.generate, lambda: ec.generate_private_key(ec.SECP256R1())]
)
def test_a_private_key_jwt_client_authenticates_with_signed_assertions(live_server, new_key):
    key = new_key()
    with admin_client(live_server) as admin:
        member = admin.admin.members.create(code="PKJ" + token()[:8].upper(), name="Key lender", kind="bank")
        issued = admin.admin.clients.create(
            member.id, name="signed", scopes=["records:write", "records:read"], public_jwk=public_jwk(key)
        )
    assert issued.client_secret is None and issued.auth_method == "private_key_jwt"

    with RegistryClient(live_server["url"], client_id=issued.client_id, private_key=pem(key)) as client:
        assert client.records.submit([item(token(), "PKJ-1")]).summary.created == 1
        client._access_token = None  # a second token: its assertion must be a new one (each is single-use)
        assert [r.account_ref for r in client.records.list()] == ["PKJ-1"]

    with (
        RegistryClient(
            live_server["url"], client_id=issued.client_id, private_key=ed25519.Ed25519PrivateKey.generate()
        ) as impostor,
        pytest.raises(AuthenticationError),
    ):
        impostor.records.list().pages().__next__()


def test_an_idempotency_key_chosen_by_the_caller_applies_a_call_once(live_server):
    code = "IDK" + token()[:8].upper()
    with admin_client(live_server) as admin:
        first = admin.admin.members.create(code=code, name="Once", kind="bank", idempotency_key=f"onboard-{code}")
        again = admin.admin.members.create(code=code, name="Once", kind="bank", idempotency_key=f"onboard-{code}")
        assert again.id == first.id  # the stored answer, not a duplicate-code conflict
        with pytest.raises(UnprocessableEntity) as reused:
            admin.admin.members.create(code=code + "X", name="Other", kind="bank", idempotency_key=f"onboard-{code}")
        assert reused.value.errors[0].field == "Idempotency-Key"


def test_raw_responses_extra_headers_and_with_options(live_server):
    _, client = member_client(live_server)
    with client:
        created = client.records.submit([item(token(), "RAW-1")]).results[0].record_id
        raw = client.with_raw_response.records.get(created, extra_headers={"X-Request-ID": "trace-0001"})
        assert isinstance(raw, APIResponse) and raw.status == 200
        assert raw.headers["x-request-id"] == raw.request_id == "trace-0001"  # the header reached the server
        assert isinstance(raw.parsed, Record) and raw.parsed.account_ref == "RAW-1"

        page = client.with_raw_response.records.list(page_size=1)
        assert page.status == 200 and [r.id for r in page.parsed.data] == [created]

        patient = client.with_options(timeout=60, max_retries=5)
        assert patient.max_retries == 5 and client.max_retries == 2
        assert patient.records.get(created).id == created
        assert patient._access_token is client._access_token  # one token for both

    with admin_client(live_server) as admin:
        onboarded = admin.with_raw_response.admin.members.create(
            code="RAW" + token()[:8].upper(), name="Raw", kind="bank"
        )
        assert onboarded.status == 201 and isinstance(onboarded.parsed, Member)


def test_debug_logging_shows_the_traffic_and_no_secret(live_server):
    _, client = member_client(live_server)
    script = "from registry_client import RegistryClient\nRegistryClient().records.list().pages().__next__()\n"
    env = {
        "REGISTRY_LOG": "debug",
        "REGISTRY_URL": live_server["url"],
        "REGISTRY_CLIENT_ID": client.client_id,
        "REGISTRY_CLIENT_SECRET": client._client_secret,
        "REGISTRY_HASHING_KEY": live_server["hashing_key"],
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    log = done.stderr
    assert "request POST /oauth/token" in log and "response 200 GET /v1/records" in log
    for secret in (client._client_secret, live_server["hashing_key"], "Bearer", "Basic", "access_token"):
        assert secret not in log
    client.close()


def test_secrets_are_masked_in_repr_and_str(live_server):
    with admin_client(live_server) as admin:
        member = admin.admin.members.create(code="MSK" + token()[:8].upper(), name="Masked", kind="bank")
        issued = admin.admin.clients.create(member.id, name="masked", scopes=["monitor"])
    assert issued.client_secret.startswith("brs_")
    for shown in (repr(issued), str(issued)):
        assert issued.client_secret not in shown and issued.client_id in shown
    client = RegistryClient(live_server["url"], issued.client_id, issued.client_secret, live_server["hashing_key"])
    with client:
        hook = client.webhook.set("https://hooks.example/registry")
        assert hook.secret and hook.secret not in repr(hook) and hook.secret not in str(hook)
        for shown in (repr(client), str(client)):
            assert issued.client_secret not in shown and live_server["hashing_key"] not in shown
