"""Every route refuses a query parameter it does not declare (registry/core/query.py): a
filter the route does not have is a 422 naming it, never silently ignored. The walk over
`app.routes` covers routes added later without a line here."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from registry.core.query import API_PREFIXES

UNKNOWN = "not_a_filter"


def _get_routes(app) -> list:
    """Every GET operation of the API, routers included (walked through their contexts)."""
    return [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and "GET" in r.methods and r.path.startswith(API_PREFIXES)
    ]


@pytest.fixture
async def member(registry):
    return await registry.member()


async def test_every_get_route_refuses_an_unknown_query_parameter(app, http, registry, member):
    routes = _get_routes(app)
    assert len(routes) > 20  # the walk really walks the API
    accepted = []
    for route in routes:
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path)
        headers = registry.admin.headers if path.startswith("/admin") else member.headers
        r = await http.get(path, params={UNKNOWN: "1"}, headers=headers)
        if r.status_code != 422 or [e["field"] for e in r.json().get("errors", [])] != [UNKNOWN]:
            accepted.append((route.path, r.status_code))
        else:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert UNKNOWN in r.json()["detail"]
    assert accepted == []


@pytest.mark.parametrize(("path", "param"), [("/admin/members", "code"), ("/admin/disputes", "member_id")])
async def test_the_filters_users_believed_they_had_are_refused(http, registry, path, param):
    r = await http.get(path, params={param: "BANK001"}, headers=registry.admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": param, "message": "unknown query parameter"}]
    # The parameters the route does declare still work.
    assert (await http.get(path, params={"limit": 5}, headers=registry.admin.headers)).status_code == 200


async def test_declared_parameters_of_a_member_list_still_filter(http, member):
    r = await http.get("/v1/records", params={"status": "current", "limit": 1}, headers=member.headers)
    assert r.status_code == 200, r.text
    r = await http.get("/v1/records", params={"status": "current", "stauts": "current"}, headers=member.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stauts"
