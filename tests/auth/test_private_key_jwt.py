"""private_key_jwt (RFC 7523): clients registered with a public key sign their way in;
every way to misuse an assertion is invalid_client."""

import json
import secrets
import subprocess
import sys
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

TOKEN_URL = "http://registry.test/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def keypair(kind):
    if kind == "Ed25519":
        private = Ed25519PrivateKey.generate()
        return private, json.loads(OKPAlgorithm.to_jwk(private.public_key())), "EdDSA"
    private = ec.generate_private_key(ec.SECP256R1())
    return private, json.loads(ECAlgorithm.to_jwk(private.public_key())), "ES256"


def assertion(private, alg, client_id, **override):
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_hex(8),
    }
    claims.update(override)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private, algorithm=alg)


async def register(http, registry, jwk, scopes=("records:read",), member=None):
    member = member or await registry.member()
    r = await http.post(
        f"/admin/members/{member.id}/clients",
        json={"name": "signed", "scopes": list(scopes), "public_jwk": jwk},
        headers=registry.admin.headers,
    )
    return r


async def grant(http, client_assertion, **extra):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion,
    }
    data.update(extra)
    return await http.post("/oauth/token", data=data)


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
async def test_signed_assertion_gets_a_token_once(http, registry, kind):
    private, jwk, alg = keypair(kind)
    r = await register(http, registry, jwk)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["client_secret"] is None and body["auth_method"] == "private_key_jwt"
    client_id = body["client_id"]
    signed = assertion(private, alg, client_id)
    ok = await grant(http, signed, client_id=client_id)
    assert ok.status_code == 200, ok.text
    token = ok.json()["access_token"]
    assert (await http.get("/v1/records", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    replay = await grant(http, signed)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_client"
    rows = await registry.audit_rows(action="auth.token", client_id=client_id)
    assert rows[-1]["details"]["method"] == "private_key_jwt"


async def test_issuer_is_an_accepted_audience(http, registry, app):
    private, jwk, alg = keypair("Ed25519")
    client_id = (await register(http, registry, jwk)).json()["client_id"]
    r = await grant(http, assertion(private, alg, client_id, aud=app.state.runtime.settings.issuer))
    assert r.status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "wrong audience",
        "too long lived",
        "expired",
        "sub differs",
        "iss differs",
        "no jti",
        "other key",
        "alg none",
        "client_id mismatch",
        "garbage",
        "secret client",
    ],
)
async def test_bad_assertions_are_invalid_client(http, registry, case):
    private, jwk, alg = keypair("Ed25519")
    client_id = (await register(http, registry, jwk)).json()["client_id"]
    now = int(time.time())
    extra = {}
    if case == "wrong audience":
        signed = assertion(private, alg, client_id, aud="https://elsewhere.example/token")
    elif case == "too long lived":
        signed = assertion(private, alg, client_id, exp=now + 3600 + 120)  # beyond the hour allowed by default
    elif case == "expired":
        signed = assertion(private, alg, client_id, iat=now - 600, exp=now - 300)
    elif case == "sub differs":
        signed = assertion(private, alg, client_id, sub="brc_someoneelse0000")
    elif case == "iss differs":
        signed = assertion(private, alg, client_id, iss="brc_someoneelse0000")
    elif case == "no jti":
        signed = assertion(private, alg, client_id, jti=None)
    elif case == "other key":
        signed = assertion(Ed25519PrivateKey.generate(), alg, client_id)
    elif case == "alg none":
        signed = jwt.encode(
            {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "x"}, None, algorithm="none"
        )
    elif case == "client_id mismatch":
        signed = assertion(private, alg, client_id)
        extra = {"client_id": "brc_0000000000000000"}
    elif case == "garbage":
        signed = "not.a.jwt"
    else:  # a secret-based client cannot authenticate with an assertion
        member = await registry.member()
        client_id = member.client.client_id
        signed = assertion(private, alg, client_id)
    last_used = "SELECT last_used_at FROM api_clients WHERE client_id = $1"
    used_before = await registry.pool.fetchval(last_used, client_id)
    audited_before = await registry.audit_rows(action="auth.token", client_id=client_id)
    r = await grant(http, signed, **extra)
    assert r.status_code == 401, (case, r.text)
    assert r.json()["error"] == "invalid_client"
    # Refused, so nothing of a success is written: no assertion remembered, the client not
    # marked used, no token audited; the refusal itself is audited once.
    assert await registry.pool.fetchval("SELECT count(*) FROM client_assertions WHERE client_id = $1", client_id) == 0
    assert await registry.pool.fetchval(last_used, client_id) == used_before
    assert await registry.audit_rows(action="auth.token", client_id=client_id) == audited_before
    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in rows] == [("auth.failed", 401)]


@pytest.fixture
def token_clock(app, monkeypatch):
    """The token clock of the running app, set by the test: `token_clock.at = seconds`.
    A fresh TokenService (the app's settings and keys), so the shared one's cache is untouched."""
    from registry.auth.tokens import TokenService

    runtime = app.state.runtime

    class Clock:
        at = time.time()

    service = TokenService(runtime.settings, runtime.keys, clock=lambda: Clock.at)
    monkeypatch.setattr(runtime, "tokens", service)
    return Clock


async def test_an_hour_long_assertion_is_accepted_and_the_maximum_is_a_setting(http, registry, app, monkeypatch):
    """Common clients (authlib by default) sign assertions that live an hour."""
    private, jwk, alg = keypair("P-256")
    client_id = (await register(http, registry, jwk)).json()["client_id"]
    now = int(time.time())
    hour_long = assertion(private, alg, client_id, exp=now + 3600)
    ok = await grant(http, hour_long)
    assert ok.status_code == 200, ok.text
    stored = await registry.pool.fetchval(
        "SELECT extract(epoch FROM expires_at)::bigint FROM client_assertions WHERE client_id = $1", client_id
    )
    assert stored == now + 3600  # the jti is kept until the assertion's own exp
    monkeypatch.setattr(app.state.runtime.settings, "client_assertion_max_lifetime_seconds", 300)
    refused = await grant(http, assertion(private, alg, client_id, exp=now + 3600))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "maximum of 300 s" in refused.json()["error_description"]
    assert (await grant(http, assertion(private, alg, client_id, exp=now + 300))).status_code == 200


async def test_a_used_jti_is_kept_until_its_assertion_expires(http, registry, token_clock):
    """An hour-long assertion replayed just before its exp is refused, although other
    clients' requests have cleaned the replay table in between; after exp it is expired."""
    private, jwk, alg = keypair("Ed25519")
    client_id = (await register(http, registry, jwk)).json()["client_id"]
    other_private, other_jwk, _ = keypair("Ed25519")
    other = (await register(http, registry, other_jwk)).json()["client_id"]
    start = int(token_clock.at)
    used = assertion(private, alg, client_id, iat=start, exp=start + 3600)
    assert (await grant(http, used)).status_code == 200
    token_clock.at = start + 3500
    # Another client's assertion made at that moment: its request forgets what has expired.
    fresh = assertion(other_private, alg, other, iat=start + 3500, exp=start + 3560)
    assert (await grant(http, fresh)).status_code == 200, "the token clock drives assertion checks"
    replay = await grant(http, used)
    assert replay.status_code == 401 and "already used" in replay.json()["error_description"]
    token_clock.at = start + 3600 + 31  # past exp and the 30 s leeway
    late = await grant(http, used)
    assert late.status_code == 401 and "ExpiredSignatureError" in late.json()["error_description"]


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "abc", "e": "AQAB"},
        {"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "OKP", "crv": "Ed25519", "x": "not-base64!"},
        "a string",
    ],
)
async def test_unacceptable_keys_are_refused(http, registry, jwk):
    member = await registry.member()
    r = await register(http, registry, jwk, member=member)
    assert r.status_code == 422, r.text
    stored = await registry.pool.fetch("SELECT client_id FROM api_clients WHERE member_id = $1", member.id)
    assert [row["client_id"] for row in stored] == [member.client.client_id]


async def test_a_private_jwk_is_refused(http, registry):
    private = Ed25519PrivateKey.generate()
    full = json.loads(OKPAlgorithm.to_jwk(private))
    assert "d" in full
    member = await registry.member()
    r = await register(http, registry, full, member=member)
    assert r.status_code == 422 and "private" in r.json()["errors"][0]["message"]
    stored = await registry.pool.fetch("SELECT client_id FROM api_clients WHERE member_id = $1", member.id)
    assert [row["client_id"] for row in stored] == [member.client.client_id]


async def test_mixing_methods_is_invalid_request(http, registry):
    private, jwk, alg = keypair("Ed25519")
    client_id = (await register(http, registry, jwk)).json()["client_id"]
    r = await grant(http, assertion(private, alg, client_id), client_secret="brs_x")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_assertion_type": "urn:other", "client_assertion": "x"},
    )
    assert r.status_code == 400


def test_cli_registers_a_public_key_client(database_url, tmp_path):
    """`registry clients create --public-jwk FILE` against the test database."""
    import os

    _, jwk, _ = keypair("P-256")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(jwk))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATABASE_URL=database_url, REGISTRY_DATA_DIR=str(tmp_path))
    code = "PKJ" + secrets.token_hex(3).upper()
    run = lambda *a: subprocess.run([sys.executable, "-m", "registry", *a], env=env, capture_output=True, text=True)  # noqa: E731
    assert run("members", "create", code, "--name", "Signed Bank").returncode == 0
    created = run("clients", "create", code, "--name", "signed", "--scope", "exposure:read", "--public-jwk", str(path))
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    assert body["auth_method"] == "private_key_jwt" and body["client_secret"] is None
    path.write_text('{"kty": "OKP", "crv": "Ed25519", "x": "x", "d": "secret"}')
    refused = run("clients", "create", code, "--name", "bad", "--scope", "exposure:read", "--public-jwk", str(path))
    assert refused.returncode == 1 and refused.stderr.startswith("error:") and "Traceback" not in refused.stderr
