"""Administration: members, API clients and the audit log, as the association's admin uses them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from registry_client import Conflict, RegistryClient
from registry_client.types import MemberUpdate

from sdk_helpers import async_client, problem

MEMBER = {
    "id": "6f1c",
    "code": "BANK001",
    "name": "First Bank",
    "kind": "bank",
    "status": "active",
    "created_at": "2026-01-01T00:00:00Z",
}


def test_create_member(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.post("/admin/members").mock(return_value=httpx.Response(201, json=MEMBER))
    member = client.admin.members.create(code="BANK001", name="First Bank", kind="bank")
    client.admin.members.create(code="BANK002", name="B", kind="bank", quota_writes_per_second=50)
    assert [json.loads(call.request.content) for call in route.calls] == [
        {"code": "BANK001", "name": "First Bank", "kind": "bank"},
        {"code": "BANK002", "name": "B", "kind": "bank", "quota_writes_per_second": 50},
    ]
    assert member.id == "6f1c" and member.created_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_duplicate_member_code_is_a_conflict(client: RegistryClient, api: respx.MockRouter) -> None:
    api.post("/admin/members").mock(
        return_value=problem(409, "Conflict", "member code BANK001 exists")
    )
    with pytest.raises(Conflict, match="BANK001 exists"):
        client.admin.members.create(code="BANK001", name="First Bank", kind="bank")


def test_member_code_is_checked_locally(client: RegistryClient, api: respx.MockRouter) -> None:
    with pytest.raises(ValueError, match="code"):
        client.admin.members.create(code="bank 1", name="First Bank", kind="bank")


def test_list_get_suspend_reactivate(client: RegistryClient, api: respx.MockRouter) -> None:
    api.get("/admin/members").mock(
        side_effect=[
            httpx.Response(200, json={"data": [MEMBER], "next_cursor": "n"}),
            httpx.Response(
                200, json={"data": [{**MEMBER, "id": "77", "code": "LEASE01"}], "next_cursor": None}
            ),
        ]
    )
    api.get("/admin/members/6f1c").mock(return_value=httpx.Response(200, json=MEMBER))
    patch = api.patch("/admin/members/6f1c").mock(
        return_value=httpx.Response(200, json={**MEMBER, "status": "suspended"})
    )
    assert [m.code for m in client.admin.members.list()] == ["BANK001", "LEASE01"]
    assert client.admin.members.get("6f1c").name == "First Bank"
    assert client.admin.members.suspend("6f1c").status == "suspended"
    client.admin.members.reactivate("6f1c")
    client.admin.members.update(
        "6f1c", MemberUpdate(quota_writes_per_second=None, quota_exposure_per_minute=600)
    )
    bodies = [json.loads(call.request.content) for call in patch.calls]
    assert bodies == [
        {"status": "suspended"},
        {"status": "active"},
        {"quota_writes_per_second": None, "quota_exposure_per_minute": 600},
    ]


def test_clients_create_list_revoke(client: RegistryClient, api: respx.MockRouter) -> None:
    created = {
        "client_id": "cli_9",
        "client_secret": "brs_s3cret",
        "name": "batch",
        "scopes": ["records:write"],
    }
    create = api.post("/admin/members/6f1c/clients").mock(
        return_value=httpx.Response(201, json=created)
    )
    # A listing may come as a bare array as well as a cursor page.
    api.get("/admin/members/6f1c/clients").mock(
        return_value=httpx.Response(200, json=[{"client_id": "cli_9"}])
    )
    revoked = {"client_id": "cli_9", "status": "revoked", "revoked_at": "2026-02-01T00:00:00Z"}
    revoke = api.delete("/admin/clients/cli_9").mock(return_value=httpx.Response(200, json=revoked))
    issued = client.admin.clients.create("6f1c", name="batch", scopes=["records:write"])
    assert issued.client_secret == "brs_s3cret"
    assert json.loads(create.calls.last.request.content) == {
        "name": "batch",
        "scopes": ["records:write"],
    }
    assert [c.client_id for c in client.admin.clients.list("6f1c")] == ["cli_9"]
    assert client.admin.clients.revoke("cli_9").status == "revoked"
    assert revoke.call_count == 1


def test_unknown_scope_is_refused_locally(client: RegistryClient, api: respx.MockRouter) -> None:
    with pytest.raises(ValueError, match="Scope"):
        client.admin.clients.create("6f1c", name="batch", scopes=["everything"])


def test_audit_filters(client: RegistryClient, api: respx.MockRouter) -> None:
    entry = {
        "id": 42,
        "at": "2026-02-01T10:00:00Z",
        "member_id": "6f1c",
        "client_id": "cli_9",
        "action": "exposure.query",
        "resource": "/v1/exposure",
        "outcome": 200,
        "request_id": "req-9",
        "details": {"purpose": "loan_application", "subjects": 1},
    }
    route = api.get("/admin/audit").mock(
        return_value=httpx.Response(200, json={"data": [entry], "next_cursor": None})
    )
    entries = list(
        client.admin.audit.list(
            member_id="6f1c",
            action="exposure.query",
            outcome=200,
            since=datetime(2026, 2, 1, tzinfo=UTC),
            until=datetime(2026, 2, 2, tzinfo=UTC),
            page_size=100,
        )
    )
    assert dict(route.calls.last.request.url.params) == {
        "member_id": "6f1c",
        "action": "exposure.query",
        "outcome": "200",
        "since": "2026-02-01T00:00:00+00:00",
        "until": "2026-02-02T00:00:00+00:00",
        "limit": "100",
    }
    assert entries[0].id == "42" and entries[0].details["purpose"] == "loan_application"


@pytest.mark.asyncio
async def test_async_admin(api: respx.MockRouter) -> None:
    api.post("/admin/members").mock(return_value=httpx.Response(201, json=MEMBER))
    api.patch("/admin/members/6f1c").mock(
        return_value=httpx.Response(200, json={**MEMBER, "status": "suspended"})
    )
    api.get("/admin/audit").mock(
        return_value=httpx.Response(200, json={"data": [], "next_cursor": None})
    )
    async with async_client() as client:
        member = await client.admin.members.create(code="BANK001", name="First Bank", kind="bank")
        suspended = await client.admin.members.suspend(member.id)
        audit = [entry async for entry in client.admin.audit.list(action="admin.member.update")]
    assert suspended.status == "suspended"
    assert audit == []
