"""The lean routes (registry/lean_routes.py) keep the contract of the FastAPI path: the same
requests, sent to the app as served (lean) and to an app with `lean_routes=False` on the same
database, get the same status, headers that matter, problem body and audit row, whatever is
wrong with them. And the lean path really answers: with FastAPI's route for it broken, the
served app still does."""

from __future__ import annotations

import gzip
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from registry.app import create_app
from registry.audit.actions import AuditAction
from registry.config import Settings
from registry.lean_routes import LeanRoutes, lean_routes
from tests.collateral.support import pledged, vehicle
from tests.factories import item, submit, token

# What the two paths must agree on besides the status and the body.
HEADERS = ("content-type", "www-authenticate", "retry-after", "x-should-retry", "ratelimit-policy")
AUDITED = ("member_id", "client_id", "action", "resource", "outcome", "details")


@pytest.fixture(scope="module")
async def fastapi_path(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service with every route on FastAPI's path, on the tests' database and keys."""
    application = create_app(settings.model_copy(update={"lean_routes": False}))
    assert not any(m.cls is LeanRoutes for m in application.user_middleware)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield client


async def both(lean: httpx.AsyncClient, plain: httpx.AsyncClient, registry, **request: Any) -> httpx.Response:
    """Send one request down each path; assert the answers and audit rows agree; the lean one."""
    answers, audits = [], []
    for client in (lean, plain):
        request_id = "lean-" + secrets.token_hex(6)
        headers = {**request.pop("headers", {}), "X-Request-ID": request_id}
        answer = await client.request(headers=headers, **request)
        request["headers"] = {k: v for k, v in headers.items() if k != "X-Request-ID"}
        answers.append(answer)
        rows = await registry.audit_rows(request_id=request_id)
        audits.append([{k: row[k] for k in AUDITED} for row in rows])
    lean_answer, plain_answer = answers
    assert lean_answer.status_code == plain_answer.status_code, (lean_answer.text, plain_answer.text)
    for name in HEADERS:
        assert lean_answer.headers.get(name) == plain_answer.headers.get(name), name
    assert _comparable(lean_answer) == _comparable(plain_answer)
    assert audits[0] == audits[1]
    return lean_answer


def _comparable(answer: httpx.Response) -> Any:
    if not answer.headers.get("content-type", "").endswith("json"):
        return answer.content
    body = answer.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    return body


@pytest.fixture(scope="module")
async def book(http, registry):
    """A member with exposure and records scopes, one borrower and one car of its own, and a
    client without the exposure scope."""
    member = await registry.member()
    borrower, car = token(), vehicle()
    assert (await submit(http, member, item(borrower))).status_code == 200
    assert (await submit(http, member, pledged(token(), "CAR-1", car))).status_code == 200
    reader = await registry.client(member.id, ["records:read"])
    return member, borrower, car, reader


EXPOSURE_CASES = {
    "an answer": {"json": {"subjects": ["B"], "purpose": "account_review"}},
    "a loan application without consent": {"json": {"subjects": ["B"], "purpose": "loan_application"}},
    "no record of one's own": {"json": {"subjects": ["B", "OTHER"], "purpose": "collection"}},
    "a subject that is no token": {"json": {"subjects": ["not-a-token"], "purpose": "account_review"}},
    "too many subjects": {"json": {"subjects": ["B"] * 1001, "purpose": "account_review"}},
    "an unknown field": {"json": {"subjects": ["B"], "purpose": "account_review", "extra": 1}},
    "no subjects": {"json": {"subjects": [], "purpose": "account_review"}},
    "a list for a body": {"json": ["B"]},
    "broken JSON": {"content": b'{"subjects": [', "headers": {"content-type": "application/json"}},
    "NaN, which Python's JSON reads": {
        "content": b'{"subjects": [NaN]}',
        "headers": {"content-type": "application/json"},
    },
    "no content type": {"content": b'{"subjects": ["B"], "purpose": "account_review"}'},
    "text/plain": {"content": b'{"subjects": ["B"]}', "headers": {"content-type": "text/plain"}},
    "a +json type": {
        "content": b'{"subjects": ["B"], "purpose": "account_review"}',
        "headers": {"content-type": "application/vnd.registry+json; charset=utf-8"},
    },
    "bytes that are no UTF-8": {"content": b'{"subjects": ["\xff"]}', "headers": {"content-type": "application/json"}},
    "a UTF-16 body": {
        "content": '{"subjects": ["B"], "purpose": "account_review"}'.encode("utf-16"),
        "headers": {"content-type": "application/json"},
    },
    "no body": {"content": b"", "headers": {"content-type": "application/json"}},
    "an unknown query parameter": {"json": {"subjects": ["B"], "purpose": "account_review"}, "params": {"x": "1"}},
    "gzip it cannot read": {
        "content": gzip.compress(b'{"subjects": ["B"]}'),
        "headers": {"content-type": "application/json", "content-encoding": "gzip"},
    },
    "a body over the limit, declared": {"content": b" " * 1_000_001, "headers": {"content-type": "application/json"}},
}


def _with(case: dict[str, Any], subject: str, other: str) -> dict[str, Any]:
    request = dict(case)
    if "json" in request and isinstance(request["json"], dict):
        body = dict(request["json"])
        body["subjects"] = [subject if s == "B" else other if s == "OTHER" else s for s in body["subjects"]]
        request["json"] = body
    elif "content" in request and b'"B"' in request["content"]:
        request["content"] = request["content"].replace(b'"B"', f'"{subject}"'.encode())
    elif "content" in request and '"B"'.encode("utf-16")[2:] in request["content"]:
        request["content"] = case["content"].decode("utf-16").replace('"B"', f'"{subject}"').encode("utf-16")
    return request


@pytest.mark.parametrize("case", sorted(EXPOSURE_CASES))
async def test_an_exposure_request_gets_the_same_answer_and_audit_on_both_paths(
    http, fastapi_path, registry, book, case
):
    member, borrower, _, _ = book
    request = _with(EXPOSURE_CASES[case], borrower, token())
    request.setdefault("headers", {}).update(member.headers)
    await both(http, fastapi_path, registry, method="POST", url="/v1/exposure", **request)


async def test_a_streamed_body_over_the_limit_is_the_same_413(http, fastapi_path, registry, book):
    member, *_ = book

    async def chunks():
        for _ in range(20):
            yield b" " * 100_000

    for client in (http, fastapi_path):
        answer = await client.post(
            "/v1/exposure", content=chunks(), headers={**member.headers, "content-type": "application/json"}
        )
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "who", ["no token", "a malformed token", "another scheme", "a token without the scope", "a revoked client"]
)
async def test_who_may_ask_is_judged_the_same_on_both_paths(http, fastapi_path, registry, book, who):
    member, borrower, _, reader = book
    headers = {
        "no token": {},
        "a malformed token": {"Authorization": "Bearer not.a.jwt"},
        "another scheme": {"Authorization": f"Basic {member.client.token}"},
        "a token without the scope": reader.headers,
    }.get(who)
    if headers is None:
        gone = await registry.client(member.id, ["exposure:read"])
        response = await http.delete(f"/admin/clients/{gone.client_id}", headers=registry.admin.headers)
        assert response.status_code in (200, 204), response.text
        headers = gone.headers
    body = {"subjects": [borrower], "purpose": "account_review"}
    await both(http, fastapi_path, registry, method="POST", url="/v1/exposure", json=body, headers=headers)


@pytest.mark.parametrize(
    "case",
    [
        {"purpose": "account_review"},
        {"purpose": "account_review", "vehicles": ["OTHER"]},
        {"purpose": "loan_application"},
        {"purpose": "collection", "vehicles": ["not-a-token"]},
        {"purpose": "account_review", "vehicles": []},
    ],
    ids=["an answer", "no account of one's own", "no consent", "no token", "none"],
)
async def test_a_vehicle_check_gets_the_same_answer_and_audit_on_both_paths(http, fastapi_path, registry, book, case):
    member, _, car, reader = book
    body = {"vehicles": [car], **case}
    body["vehicles"] = [vehicle() if v == "OTHER" else v for v in body["vehicles"]]
    answer = await both(
        http, fastapi_path, registry, method="POST", url="/v1/collateral/exposure", json=body, headers=member.headers
    )
    if case == {"purpose": "account_review"}:
        assert answer.json()["results"][0]["own"] == {"accounts": 1}
    await both(
        http, fastapi_path, registry, method="POST", url="/v1/collateral/exposure", json=body, headers=reader.headers
    )


async def test_the_lean_path_answers_without_fastapis_route(app, http, book, monkeypatch):
    member, borrower, car, _ = book
    lean = lean_routes(app)
    assert sorted(lean) == [("POST", "/v1/collateral/exposure"), ("POST", "/v1/exposure")]

    async def broken(scope, receive, send):
        raise AssertionError("FastAPI's route was called")

    for found in lean.values():
        monkeypatch.setattr(found.route, "handle", broken)
    r = await http.post(
        "/v1/exposure", json={"subjects": [borrower], "purpose": "account_review"}, headers=member.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["own"]["accounts"] == 1
    r = await http.post(
        "/v1/collateral/exposure", json={"vehicles": [car], "purpose": "account_review"}, headers=member.headers
    )
    assert r.status_code == 200, r.text
    # Every other route still goes through FastAPI.
    assert (await http.get("/v1/records", headers=member.headers)).status_code == 200


async def test_metrics_and_the_access_log_name_the_lean_route(http, book, caplog):
    member, borrower, _, _ = book
    with caplog.at_level("INFO", logger="registry.access"):
        r = await http.post(
            "/v1/exposure", json={"subjects": [borrower], "purpose": "account_review"}, headers=member.headers
        )
    assert r.status_code == 200
    lines = [rec for rec in caplog.records if rec.name == "registry.access"]
    assert [(rec.route, rec.status) for rec in lines] == [("/v1/exposure", 200)]
    metrics = (await http.get("/metrics")).text
    assert 'registry_http_requests_total{method="POST",route="/v1/exposure",status="200"}' in metrics


def test_a_lean_route_must_take_a_body_and_the_context():
    from registry.auth.principal import Scope
    from registry.lean_routes import lean

    with pytest.raises(TypeError, match="takes \\(body, ctx\\)"):

        @lean(Scope.EXPOSURE_READ, AuditAction.EXPOSURE_QUERY)
        async def only_context(ctx):  # pragma: no cover - refused when declared
            return ctx


def test_a_lean_route_with_a_path_parameter_is_refused_when_the_app_is_made(settings):
    from fastapi import APIRouter

    from registry.auth.principal import Scope
    from registry.context import Exposure
    from registry.exposure.schemas import ExposureRequest
    from registry.lean_routes import lean

    application = create_app(settings)
    router = APIRouter()

    @router.post("/v1/exposure/{kind}")
    @lean(Scope.EXPOSURE_READ, AuditAction.EXPOSURE_QUERY)
    async def by_kind(body: ExposureRequest, ctx: Exposure):  # pragma: no cover - refused
        return None

    application.include_router(router)
    with pytest.raises(TypeError, match="fixed path"):
        lean_routes(application)
