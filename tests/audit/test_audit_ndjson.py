"""The audit log as NDJSON (`Accept: application/x-ndjson`): every event matching the filters,
newest first, streamed a page at a time; each event names its member by id and by code, as
the JSON pages do. A bad cursor is a 422 before anything is streamed; admins only."""

import orjson
import pytest

from registry.audit import service as audit_service
from tests.factories import item, submit, token

NDJSON = "application/x-ndjson"


async def events(http, registry, accept=None, **params):
    headers = dict(registry.admin.headers)
    if accept:
        headers["Accept"] = accept
    return await http.get("/admin/audit", params=params, headers=headers)


@pytest.fixture
async def busy_member(http, registry):
    member = await registry.member()
    for n in range(5):
        r = await submit(http, member, item(token(), f"N-{n}"))
        assert r.status_code == 200, r.text
    return member


async def test_ndjson_streams_every_matching_event_with_member_codes(http, registry, busy_member, monkeypatch):
    monkeypatch.setattr(audit_service, "STREAM_PAGE", 2)  # five events: three round trips
    member = busy_member
    where = {"member_id": str(member.id), "action": "records.submit"}
    r = await events(http, registry, NDJSON, limit=1, **where)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(NDJSON)
    lines = [orjson.loads(line) for line in r.content.splitlines()]
    assert [x["action"] for x in lines] == ["records.submit"] * 5  # `limit` is not applied
    assert {(x["member_id"], x["member_code"]) for x in lines} == {(str(member.id), member.code)}
    ids = [x["id"] for x in lines]
    assert ids == sorted(ids, reverse=True)
    page = (await events(http, registry, limit=100, **where)).json()["data"]
    assert lines == page  # the same events, the same shape as the JSON pages

    rows = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"], x["details"]["format"]) for x in rows] == [("admin.audit.read", 200, NDJSON)]


async def test_ndjson_honours_filters_and_the_cursor(http, registry, busy_member):
    member = busy_member
    first = (await events(http, registry, member_id=str(member.id), limit=2)).json()
    rest = await events(http, registry, NDJSON, member_id=str(member.id), cursor=first["next_cursor"])
    lines = [orjson.loads(line) for line in rest.content.splitlines()]
    assert [x["id"] for x in first["data"]] + [x["id"] for x in lines] == [
        x["id"] for x in (await events(http, registry, member_id=str(member.id))).json()["data"]
    ]
    none = await events(http, registry, NDJSON, member_id=str(member.id), action="no.such.action")
    assert none.status_code == 200 and none.content == b""


async def test_json_pages_show_member_codes_too_and_null_without_a_member(http, registry, busy_member):
    data = (await events(http, registry, member_id=str(busy_member.id))).json()["data"]
    assert {x["member_code"] for x in data} == {busy_member.code}
    bad = await http.get("/admin/audit", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    anonymous = (await events(http, registry, action="auth.failed", limit=5)).json()["data"]
    assert all(x["member_code"] is None for x in anonymous if x["member_id"] is None)


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJ4Il0"])  # the second: base64 of ["x"]
async def test_a_bad_cursor_is_a_problem_before_anything_streams(http, registry, cursor):
    r = await events(http, registry, NDJSON, cursor=cursor)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "cursor"


async def test_members_may_not_export_the_log(http, registry, busy_member):
    r = await http.get("/admin/audit", headers={**busy_member.headers, "Accept": NDJSON})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
