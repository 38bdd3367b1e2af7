"""The token endpoint: both client authentication methods, and every way to fail it."""

import base64

import jwt
import pytest

from registry.auth.principal import ALL_SCOPES

TOKEN = "/oauth/token"


async def test_client_secret_basic_issues_a_signed_token(http, registry, settings):
    member = await registry.member()
    c = member.client
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == settings.access_token_ttl_seconds
    assert set(body["scope"].split()) == set(c.scopes)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == c.client_id and claims["member"] == str(member.id)
    assert {"iss", "aud", "iat", "nbf", "exp", "jti", "scope"} <= claims.keys()
    # The key that signed it is published.
    jwks = (await http.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"])


async def test_client_secret_post(http, registry, settings):
    member = await registry.member()
    c = member.client
    r = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.client_secret}
    )
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == c.client_id and claims["member"] == str(member.id)
    assert (
        set(claims["scope"].split()) == set(c.scopes)
        and claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    )
    rows = await registry.audit_rows(action="auth.token", request_id=r.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["details"]["method"] == "client_secret_post"


async def test_the_jwks_is_pyjwts_export_of_each_signing_key(http, app):
    """Each entry is what PyJWT exports for the public key, with its kid, alg and use."""
    from jwt.algorithms import OKPAlgorithm

    published = (await http.get("/.well-known/jwks.json")).json()["keys"]
    keys = app.state.runtime.tokens.key_set()
    assert {k["kid"] for k in published} == set(keys)
    for entry in published:
        exported = OKPAlgorithm.to_jwk(keys[entry["kid"]].public_key, as_dict=True)
        assert entry == {**exported, "kid": entry["kid"], "alg": "EdDSA", "use": "sig"}


async def test_scope_narrowing(http, registry):
    c = (await registry.member()).client
    r = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "scope": "exposure:read"}, auth=(c.client_id, c.client_secret)
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "exposure:read"
    token = r.json()["access_token"]
    # A narrowed token cannot do what the dropped scope allowed.
    denied = await http.get("/admin/members", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403


@pytest.mark.parametrize("scope", ["admin", "records:write nonsense", "admin exposure:read"])
async def test_scope_beyond_the_client_is_invalid_scope(http, registry, scope):
    c = (await registry.member()).client
    r = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "scope": scope}, auth=(c.client_id, c.client_secret)
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"


async def test_bad_secret_is_invalid_client_and_audited(http, registry):
    c = (await registry.member()).client
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(c.client_id, "brs_wrong"))
    assert r.status_code == 401
    body = r.json()
    assert body["error"] == "invalid_client" and body["status"] == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    rows = await registry.audit_rows(action="auth.failed", request_id=r.headers["x-request-id"])
    assert len(rows) == 1 and rows[0]["outcome"] == 401 and rows[0]["client_id"] == c.client_id
    assert "brs_wrong" not in str(dict(rows[0]))


async def test_unknown_client_is_invalid_client(http):
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=("brc_0000000000000000", "brs_x"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_unsupported_grant(http, registry):
    c = (await registry.member()).client
    r = await http.post(TOKEN, data={"grant_type": "password"}, auth=(c.client_id, c.client_secret))
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"data": {}}, "invalid_request"),
        ({"json": {"grant_type": "client_credentials"}}, "invalid_request"),
        (
            {
                "content": b"grant_type=client_credentials&grant_type=x",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            "invalid_request",
        ),
        ({"content": b"\xff\xfe", "headers": {"content-type": "application/x-www-form-urlencoded"}}, "invalid_request"),
    ],
)
async def test_malformed_requests(http, registry, kwargs, error):
    c = (await registry.member()).client
    r = await http.post(TOKEN, auth=(c.client_id, c.client_secret), **kwargs)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error


async def test_no_client_authentication(http):
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_malformed_basic_header(http):
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    no_colon = base64.b64encode(b"nocolon").decode()
    r = await http.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {no_colon}"}
    )
    assert r.status_code == 401


async def test_two_authentication_methods_at_once_are_refused(http, registry):
    c = (await registry.member()).client
    r = await http.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.client_secret},
        auth=(c.client_id, c.client_secret),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


async def test_revoked_client_and_suspended_member_get_no_token(http, registry):
    member = await registry.member()
    c = member.client
    assert (
        await http.patch(f"/admin/members/{member.id}", json={"status": "suspended"}, headers=registry.admin.headers)
    ).status_code == 200
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
    assert r.status_code == 401
    await http.patch(f"/admin/members/{member.id}", json={"status": "active"}, headers=registry.admin.headers)
    assert (await http.delete(f"/admin/clients/{c.client_id}", headers=registry.admin.headers)).status_code == 200
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
    assert r.status_code == 401


async def test_successful_issuance_is_audited(http, registry):
    c = (await registry.member()).client
    r = await http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret))
    rows = await registry.audit_rows(action="auth.token", request_id=r.headers["x-request-id"])
    assert len(rows) == 1
    assert rows[0]["client_id"] == c.client_id and rows[0]["member_id"] == c.member_id and rows[0]["outcome"] == 200
    assert r.json()["access_token"] not in str(dict(rows[0]))


def test_scope_names_are_the_contract():
    assert {"records:write", "records:read", "exposure:read", "monitor", "disputes", "admin"} == ALL_SCOPES


async def test_nul_in_a_parameter_name_is_invalid_request_and_audited(http, registry):
    r = await http.post(
        "/oauth/token",
        content=b"a%00b=1&grant_type=client_credentials&client_id=brc_x&client_secret=brs_y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert len(await registry.audit_rows(request_id=r.headers["x-request-id"])) == 1


async def test_audit_rows_land_whatever_the_caller_sent(registry):
    from registry.audit import auditor
    from registry.audit.actions import AuditAction

    await auditor.record_event(
        registry.pool,
        AuditAction.AUTH_FAILED,
        outcome=401,
        actor=auditor.Actor(None, "x\x00y"),
        request_id="nul-test-1",
        details={"k\x00": ["v\x00"]},
    )
    row = (await registry.audit_rows(request_id="nul-test-1"))[0]
    assert row["client_id"] == "x\ufffdy" and row["details"] == {"k\ufffd": ["v\ufffd"]}
