"""Standard OAuth and JOSE libraries, with their defaults, against the registry: authlib
fetches tokens with each client authentication method, joserfc verifies the access tokens
against the published JWKS, and authlib reads the throttle as an RFC 6749 error."""

from __future__ import annotations

import secrets
import warnings
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, KeySet, OKPKey

BASE = "http://registry.test"
TOKEN_URL = BASE + "/oauth/token"


def oauth_client(app, client_id, secret, method, address="127.0.0.1", **kwargs) -> AsyncOAuth2Client:
    transport = httpx.ASGITransport(app=app, client=(address, 50_000))
    return AsyncOAuth2Client(
        client_id, secret, token_endpoint_auth_method=method, transport=transport, base_url=BASE, **kwargs
    )


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_authlib_fetches_a_token_with_a_client_secret(app, registry, method):
    c = (await registry.member()).client
    sent = []

    async def record(request):
        sent.append(request)

    async with oauth_client(app, c.client_id, c.client_secret, method, event_hooks={"request": [record]}) as client:
        token = await client.fetch_token(TOKEN_URL, grant_type="client_credentials")
        assert token["token_type"] == "Bearer" and set(token["scope"].split()) == set(c.scopes)
        # authlib attaches the token itself; the registry accepts it.
        assert (await client.get("/v1/records")).status_code == 200
    form = parse_qs(sent[0].content.decode())
    assert ("client_secret" in form) == (method == "client_secret_post")
    assert sent[0].headers.get("authorization", "").startswith("Basic") == (method == "client_secret_basic")


@pytest.mark.parametrize("kind, alg", [("Ed25519", "EdDSA"), ("P-256", "ES256")])
async def test_authlib_private_key_jwt_with_its_defaults(http, app, registry, kind, alg):
    """authlib's assertion lives an hour (its default), which the registry accepts."""
    key = OKPKey.generate_key("Ed25519") if kind == "Ed25519" else ECKey.generate_key("P-256")
    member = await registry.member()
    created = await http.post(
        f"/admin/members/{member.id}/clients",
        json={"name": "authlib", "scopes": ["records:read"], "public_jwk": key.as_dict(private=False)},
        headers=registry.admin.headers,
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    sent = []

    async def record(request):
        sent.append(request)

    async with oauth_client(app, client_id, key, "private_key_jwt", event_hooks={"request": [record]}) as client:
        client.register_client_auth_method(PrivateKeyJWT(TOKEN_URL, alg=alg))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc calls EdDSA deprecated (RFC 9864); it is what we accept
            token = await client.fetch_token(TOKEN_URL, grant_type="client_credentials")
        assert token["scope"] == "records:read"
        assert (await client.get("/v1/records")).status_code == 200
    assertion = parse_qs(sent[0].content.decode())["client_assertion"][0]
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600, "authlib's default lifetime is what this test is about"


async def test_joserfc_verifies_access_tokens_against_the_published_jwks(http, app, registry):
    c = (await registry.member()).client
    r = await http.post(TOKEN_URL, data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
    access_token = r.json()["access_token"]
    published = (await http.get("/.well-known/jwks.json")).json()
    key_set = KeySet.import_key_set(published)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EdDSA, deprecated by name in RFC 9864, is still the registered alg
        token = jose_jwt.decode(access_token, key_set, algorithms=["EdDSA"])
    assert token.header["typ"] == "at+jwt"
    settings = app.state.runtime.settings
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings.issuer},
        aud={"essential": True, "value": settings.audience},
        sub={"essential": True, "value": c.client_id},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(token.claims)
    assert token.claims["member"] == str(c.member_id)
    # Each published kid is its key's RFC 7638 thumbprint, as joserfc computes it.
    for entry in published["keys"]:
        assert OKPKey.import_key(entry).thumbprint() == entry["kid"]
        assert set(entry) == {"kty", "crv", "x", "kid", "alg", "use"}
    # A token signed by another key (same kid) does not verify against the set.
    forged = jwt.encode(
        {**token.claims},
        OKPKey.generate_key("Ed25519").as_pem(private=True),
        algorithm="EdDSA",
        headers={"kid": token.header["kid"], "typ": "at+jwt"},
    )
    with pytest.raises(Exception, match="signature"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jose_jwt.decode(forged, key_set, algorithms=["EdDSA"])


async def test_authlib_reads_the_throttle_as_an_oauth_error(app, registry):
    c = (await registry.member()).client
    address = f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    async with oauth_client(app, c.client_id, "brs_wrong", "client_secret_basic", address=address) as wrong:
        for _ in range(app.state.runtime.settings.token_failures_per_client):
            with pytest.raises(OAuthError) as failed:
                await wrong.fetch_token(TOKEN_URL, grant_type="client_credentials")
            assert failed.value.error == "invalid_client"
    async with oauth_client(app, c.client_id, c.client_secret, "client_secret_basic", address=address) as right:
        with pytest.raises(OAuthError) as throttled:
            await right.fetch_token(TOKEN_URL, grant_type="client_credentials")
    assert throttled.value.error == "temporarily_unavailable"
    assert "wait" in throttled.value.description


async def test_every_error_of_the_token_endpoint_carries_an_oauth_error_code(http, app):
    """Also the answers the shared machinery gives before the endpoint runs, which OAuth
    clients read the same way."""
    cases = [
        (await http.get(TOKEN_URL), 405, "invalid_request"),
        (await http.post(TOKEN_URL, content=b"x" * (app.state.runtime.settings.max_body_bytes + 1)), 413, None),
        (await http.post(TOKEN_URL + "?x=%00", data={"grant_type": "client_credentials"}), 401, "invalid_client"),
        (await http.post(TOKEN_URL, json={"grant_type": "client_credentials"}), 400, "invalid_request"),
    ]
    for r, status, error in cases:
        assert r.status_code == status, r.text
        body = r.json()
        assert body["error"] == (error or "invalid_request") and body["error_description"], body
        assert body["status"] == status and body["type"].startswith("urn:borrower-registry:problem:")
