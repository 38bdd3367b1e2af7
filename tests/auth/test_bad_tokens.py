"""Every kind of bad bearer token is a 401 problem with WWW-Authenticate, and audited."""

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PROTECTED = "/admin/members"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(app, registry, **override):
    settings = app.state.runtime.settings
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": registry.admin.client_id,
        "member": str(registry.admin.member_id),
        "scope": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "t" + str(now),
    }
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(app, claims, **header):
    key = app.state.runtime.keys.signing_key
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers=headers)


def _forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)])


def _hs256_with_public_key(app, claims) -> str:
    key = app.state.runtime.keys.signing_key
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    import hashlib
    import hmac

    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    sig = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(sig)


def _tampered(app, registry) -> str:
    token = _sign(app, _claims(app, registry, scope="records:read"))
    head, _, sig = token.split(".")
    return ".".join([head, _b64(json.dumps(_claims(app, registry)).encode()), sig])


def _embedded_jwk(app, registry) -> str:
    """Signed by an attacker's key that the token itself carries: the header must be ignored."""
    import json as _json

    from jwt.algorithms import OKPAlgorithm

    attacker = Ed25519PrivateKey.generate()
    jwk = _json.loads(OKPAlgorithm.to_jwk(attacker.public_key()))
    return jwt.encode(
        _claims(app, registry),
        attacker,
        algorithm="EdDSA",
        headers={"typ": "at+jwt", "kid": app.state.runtime.keys.current_kid, "jwk": jwk},
    )


CASES = {
    "garbage": lambda app, reg: "not-a-jwt",
    "alg none": lambda app, reg: _forge(
        {"alg": "none", "typ": "at+jwt", "kid": app.state.runtime.keys.current_kid}, _claims(app, reg)
    ),
    "hs256 with the public key": lambda app, reg: _hs256_with_public_key(app, _claims(app, reg)),
    "expired": lambda app, reg: _sign(
        app, _claims(app, reg, iat=int(time.time()) - 2000, nbf=int(time.time()) - 2000, exp=int(time.time()) - 1100)
    ),
    "not yet valid": lambda app, reg: _sign(app, _claims(app, reg, nbf=int(time.time()) + 300)),
    "wrong audience": lambda app, reg: _sign(app, _claims(app, reg, aud="urn:someone-else")),
    "wrong issuer": lambda app, reg: _sign(app, _claims(app, reg, iss="urn:someone-else")),
    "missing jti": lambda app, reg: _sign(app, _claims(app, reg, jti=None)),
    "unknown kid": lambda app, reg: _sign(app, _claims(app, reg), kid="no-such-key"),
    "path-like kid": lambda app, reg: _sign(app, _claims(app, reg), kid="../../x"),
    "huge kid": lambda app, reg: _sign(app, _claims(app, reg), kid="k" * 10_000),
    "wrong typ": lambda app, reg: _sign(app, _claims(app, reg), typ="JWT"),
    "lifetime beyond maximum": lambda app, reg: _sign(app, _claims(app, reg, exp=int(time.time()) + 86_400)),
    "foreign key": lambda app, reg: jwt.encode(
        _claims(app, reg),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": app.state.runtime.keys.current_kid, "typ": "at+jwt"},
    ),
    "tampered payload": _tampered,
    "sql-looking kid": lambda app, reg: _sign(app, _claims(app, reg), kid="' OR 1=1; DROP TABLE members; --"),
    "attacker key in jwk header": lambda app, reg: _embedded_jwk(app, reg),
    "not utf-8": lambda app, reg: _b64(b"\xff\xfe") + "." + _b64(b"\xff") + "." + _b64(b"x"),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_bad_token_is_401_problem(http, app, registry, case):
    token = CASES[case](app, registry)
    r = await http.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, (case, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["status"] == 401 and body["request_id"] == r.headers["x-request-id"]
    rows = await registry.audit_rows(action="auth.failed", request_id=r.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["outcome"] == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic abc", "Token abc"])
async def test_missing_or_other_scheme_is_401(http, registry, header):
    headers = {"Authorization": header} if header is not None else {}
    r = await http.get(PROTECTED, headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    rows = await registry.audit_rows(action="auth.failed", request_id=r.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["outcome"] == 401 and rows[0]["client_id"] is None


async def test_a_well_formed_token_passes(http, app, registry):
    r = await http.get(PROTECTED, headers={"Authorization": f"Bearer {_sign(app, _claims(app, registry))}"})
    assert r.status_code == 200


async def test_revoked_client_is_refused_at_once(http, registry):
    member = await registry.member()
    ok = await http.get("/admin/members", headers=member.headers)
    assert ok.status_code == 403  # authenticated, but not an admin
    r = await http.delete(f"/admin/clients/{member.client.client_id}", headers=registry.admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    after = await http.get("/admin/members", headers=member.headers)
    assert after.status_code == 401


async def test_suspended_member_is_refused_at_once_and_reactivation_restores(http, registry):
    member = await registry.member()
    assert (await http.get("/admin/members", headers=member.headers)).status_code == 403
    await http.patch(f"/admin/members/{member.id}", json={"status": "suspended"}, headers=registry.admin.headers)
    assert (await http.get("/admin/members", headers=member.headers)).status_code == 401
    await http.patch(f"/admin/members/{member.id}", json={"status": "active"}, headers=registry.admin.headers)
    assert (await http.get("/admin/members", headers=member.headers)).status_code == 403


async def test_revocation_from_another_process_reaches_this_worker(http, registry, pool):
    """A change made outside this worker (the CLI, another instance) arrives by NOTIFY."""
    import asyncio

    member = await registry.member()
    assert (await http.get("/admin/members", headers=member.headers)).status_code == 403
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE api_clients SET status = 'revoked' WHERE client_id = $1", member.client.client_id)
        await conn.execute("NOTIFY registry_credentials")
    for _ in range(250):  # up to 5 s: a loaded machine may deliver the notification late
        if (await http.get("/admin/members", headers=member.headers)).status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert (await http.get("/admin/members", headers=member.headers)).status_code == 401


async def test_key_location_headers_are_never_followed(http, app, registry):
    """jku/x5u point at a server that would count any fetch; the token verifies with the
    service's own key and nothing is fetched."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    fetched = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fetched.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/keys"
    try:
        token = _sign(app, _claims(app, registry), jku=url, x5u=url)
        r = await http.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        server.shutdown()
    assert fetched == []


async def test_a_cached_token_is_refused_once_past_exp_and_skew(http, app, registry, monkeypatch):
    """A verified token is served from the cache; the cache must not outlive the token.
    The app runs on a token clock the test moves (a fresh TokenService, so the shared
    cache is not disturbed)."""
    from registry.auth.tokens import TokenService
    from tests.factories import fetch_token

    runtime = app.state.runtime
    skew = runtime.settings.clock_skew_seconds
    member = await registry.member()
    now = [time.time()]
    tokens = TokenService(runtime.settings, runtime.keys, clock=lambda: now[0])
    monkeypatch.setattr(runtime, "tokens", tokens)
    token = await fetch_token(http, member.client.client_id, member.client.client_secret)
    headers = {"Authorization": f"Bearer {token}"}
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert (await http.get("/v1/records", headers=headers)).status_code == 200  # verified, now cached
    assert len(tokens._verified) == 1
    now[0] = exp + skew - 1
    assert (await http.get("/v1/records", headers=headers)).status_code == 200  # still within the skew
    now[0] = exp + skew
    refused = await http.get("/v1/records", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    rows = await registry.audit_rows(action="auth.failed", request_id=refused.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["details"]["reason"] == "rejected: ExpiredSignatureError"
