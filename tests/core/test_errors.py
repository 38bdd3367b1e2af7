"""Every error is an RFC 9457 problem with a 4xx status; never a 500; request ids everywhere."""

import pytest


def assert_problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert {"type", "title", "status", "detail", "request_id", "errors"} <= body.keys()
    assert body["status"] == status and body["request_id"] == r.headers["x-request-id"]
    return body


async def test_unknown_route(http):
    assert_problem(await http.get("/no/such/thing"), 404)


async def test_wrong_method(http):
    assert_problem(await http.put("/admin/members"), 405)


@pytest.mark.parametrize(
    "content, status",
    [
        (b"{not json", 422),
        (b"[]", 422),
        (b'"a string"', 422),
        (b'{"code": 5, "name": [], "kind": null}', 422),
        (b'{"code": "OKCODE", "name": "x\\u0000y", "kind": "bank"}', 422),
        (b'{"code": "OKCODE", "name": "x", "kind": "bank", "surprise": true}', 422),
        (b"\xff\xfe\x00", 400),
    ],
)
async def test_bad_bodies_are_4xx_problems(http, registry, content, status):
    r = await http.post(
        "/admin/members", content=content, headers={**registry.admin.headers, "content-type": "application/json"}
    )
    body = assert_problem(r, status)
    if status == 422:
        assert body["errors"], "validation problems name the fields"
    assert all({"field", "message"} == set(e) for e in body["errors"])


async def test_validation_errors_name_the_field(http, registry):
    r = await http.post(
        "/admin/members", json={"code": "OKCODE", "name": "x", "kind": "pawnshop"}, headers=registry.admin.headers
    )
    body = assert_problem(r, 422)
    assert [e["field"] for e in body["errors"]] == ["kind"]


async def test_a_rule_across_fields_names_the_field_at_fault_in_plain_words(http, registry):
    member = await registry.member()
    token = "ab" * 32
    r = await http.post(
        "/v1/exposure", json={"subjects": [token], "purpose": "loan_application"}, headers=member.headers
    )
    body = assert_problem(r, 422)
    assert body["errors"] == [
        {
            "field": "consent_ref",
            "message": "consent_ref is required for loan_application: the borrower's authorization",
        }
    ]
    r = await http.post(
        "/v1/exposure", json={"subjects": [token, token], "purpose": "collection"}, headers=member.headers
    )
    assert assert_problem(r, 422)["errors"] == [{"field": "subjects", "message": "subjects must not repeat"}]


async def test_no_message_carries_pydantics_prefixes(http, registry):
    member = await registry.member()
    r = await http.patch(f"/admin/members/{member.id}", json={"name": None}, headers=registry.admin.headers)
    assert assert_problem(r, 422)["errors"] == [{"field": "name", "message": "name cannot be null"}]
    record = {"subject": "ab" * 32, "subject_type": "individual", "account_ref": "x\u0000"}
    r = await http.post("/v1/records", json={"records": [record]}, headers=member.headers)
    assert assert_problem(r, 422)["errors"] == [{"field": "body", "message": "strings must not contain NUL characters"}]


async def test_oversize_body_is_413(http, registry):
    big = b'{"code": "OKCODE", "name": "' + b"x" * 1_100_000 + b'", "kind": "bank"}'
    r = await http.post(
        "/admin/members", content=big, headers={**registry.admin.headers, "content-type": "application/json"}
    )
    assert_problem(r, 413)


async def test_request_id_is_echoed_when_sane(http):
    r = await http.get("/healthz", headers={"X-Request-ID": "abc-123.DEF:9"})
    assert r.headers["x-request-id"] == "abc-123.DEF:9"


@pytest.mark.parametrize("offered", ["has space", "x" * 200, "semi;colon", ""])
async def test_insane_request_id_is_replaced(http, offered):
    r = await http.get("/healthz", headers={"X-Request-ID": offered})
    assert r.headers["x-request-id"] != offered and len(r.headers["x-request-id"]) == 16


async def test_every_route_documents_its_problems(app):
    schema = app.openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path.startswith("/admin"):
                assert {"401", "403"} <= operation["responses"].keys(), (method, path)


async def test_every_authenticated_route_declares_an_audit_action(app):
    from fastapi.routing import APIRoute

    from registry.auth.deps import authenticate

    def needs_auth(dependant):
        return any(d.call is authenticate or needs_auth(d) for d in dependant.dependencies)

    for route in app.routes:
        if isinstance(route, APIRoute) and needs_auth(route.dependant):
            names = [getattr(d.call, "__qualname__", "") for d in route.dependant.dependencies]
            assert any("audited" in n for n in names), route.path


async def test_streamed_oversize_body_is_413_problem(http, registry):
    async def chunks():
        for _ in range(12):
            yield b"x" * 100_000

    r = await http.post(
        "/admin/members", content=chunks(), headers={**registry.admin.headers, "content-type": "application/json"}
    )
    assert_problem(r, 413)


@pytest.mark.parametrize("url", ["/admin/audit?action=a%00b", "/admin/members/ab%00cd", "/admin/audit?x=%00"])
async def test_nul_in_path_or_query_is_422(http, registry, url):
    r = await http.get(url, headers=registry.admin.headers)
    assert_problem(r, 422)
