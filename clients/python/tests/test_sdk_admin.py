"""Administration: members, API clients and the audit log, as the association's admin uses them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from registry_client import Conflict, RegistryClient
from registry_client.types import MemberUpdate

from sdk_helpers import MEMBER_ID, REQUEST_ID, async_client, problem

OTHER_MEMBER_ID = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"
ISSUED_CLIENT_ID = "brc_9e4d2a7c1b0f5836"
# As the registry answers them (registry/members/schemas.py, registry/audit/schemas.py);
# test_the_mocks_are_shaped_as_the_registry_answers holds them to those schemas.
MEMBER = {
    "id": MEMBER_ID,
    "code": "BANK001",
    "name": "First Bank",
    "kind": "bank",
    "status": "active",
    "quota_exposure_per_minute": None,
    "quota_writes_per_second": None,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
CLIENT = {
    "client_id": ISSUED_CLIENT_ID,
    "member_id": MEMBER_ID,
    "name": "batch",
    "scopes": ["records:write"],
    "auth_method": "client_secret",
    "status": "active",
    "created_at": "2026-01-15T08:00:00Z",
    "last_used_at": None,
    "revoked_at": None,
}
CREATED_CLIENT = {**CLIENT, "client_secret": "brs_Xw3mQ9vL2kP7tR5yN8bJ4hF6dS1gA0zC3eV7uI9oK2q"}
REVOKED_CLIENT = {**CLIENT, "status": "revoked", "revoked_at": "2026-02-01T00:00:00Z"}
AUDIT_EVENT = {
    "id": 42,
    "at": "2026-02-01T10:00:00Z",
    "member_id": MEMBER_ID,
    "client_id": ISSUED_CLIENT_ID,
    "action": "exposure.query",
    "resource": "exposure",
    "outcome": 200,
    "request_id": REQUEST_ID,
    "details": {"purpose": "loan_application", "subjects": 1},
}


def test_the_mocks_are_shaped_as_the_registry_answers() -> None:
    from registry.audit.schemas import AuditEvent
    from registry.members.schemas import ClientCreated, ClientOut, MemberOut

    MemberOut.model_validate(MEMBER)
    MemberOut.model_validate({**MEMBER, "id": OTHER_MEMBER_ID, "code": "LEASE01"})
    ClientOut.model_validate(CLIENT)
    ClientOut.model_validate(REVOKED_CLIENT)
    ClientCreated.model_validate(CREATED_CLIENT)
    AuditEvent.model_validate(AUDIT_EVENT)


def test_create_member(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.post("/admin/members").mock(return_value=httpx.Response(201, json=MEMBER))
    member = client.admin.members.create(code="BANK001", name="First Bank", kind="bank")
    client.admin.members.create(code="BANK002", name="B", kind="bank", quota_writes_per_second=50)
    assert [json.loads(call.request.content) for call in route.calls] == [
        {"code": "BANK001", "name": "First Bank", "kind": "bank"},
        {"code": "BANK002", "name": "B", "kind": "bank", "quota_writes_per_second": 50},
    ]
    assert member.id == MEMBER_ID and member.created_at == datetime(2026, 1, 1, tzinfo=UTC)


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
                200,
                json={
                    "data": [{**MEMBER, "id": OTHER_MEMBER_ID, "code": "LEASE01"}],
                    "next_cursor": None,
                },
            ),
        ]
    )
    api.get(f"/admin/members/{MEMBER_ID}").mock(return_value=httpx.Response(200, json=MEMBER))
    patch = api.patch(f"/admin/members/{MEMBER_ID}").mock(
        return_value=httpx.Response(200, json={**MEMBER, "status": "suspended"})
    )
    assert [m.code for m in client.admin.members.list()] == ["BANK001", "LEASE01"]
    assert client.admin.members.get(MEMBER_ID).name == "First Bank"
    assert client.admin.members.suspend(MEMBER_ID).status == "suspended"
    client.admin.members.reactivate(MEMBER_ID)
    client.admin.members.update(
        MEMBER_ID, MemberUpdate(quota_writes_per_second=None, quota_exposure_per_minute=600)
    )
    bodies = [json.loads(call.request.content) for call in patch.calls]
    assert bodies == [
        {"status": "suspended"},
        {"status": "active"},
        {"quota_writes_per_second": None, "quota_exposure_per_minute": 600},
    ]


def test_clients_create_list_revoke(client: RegistryClient, api: respx.MockRouter) -> None:
    create = api.post(f"/admin/members/{MEMBER_ID}/clients").mock(
        return_value=httpx.Response(201, json=CREATED_CLIENT)
    )
    # A listing may come as a bare array as well as a cursor page.
    api.get(f"/admin/members/{MEMBER_ID}/clients").mock(
        return_value=httpx.Response(200, json=[CLIENT])
    )
    revoke = api.delete(f"/admin/clients/{ISSUED_CLIENT_ID}").mock(
        return_value=httpx.Response(200, json=REVOKED_CLIENT)
    )
    issued = client.admin.clients.create(MEMBER_ID, name="batch", scopes=["records:write"])
    assert issued.client_secret == CREATED_CLIENT["client_secret"]
    assert issued.client_id == ISSUED_CLIENT_ID
    assert json.loads(create.calls.last.request.content) == {
        "name": "batch",
        "scopes": ["records:write"],
    }
    assert [c.client_id for c in client.admin.clients.list(MEMBER_ID)] == [ISSUED_CLIENT_ID]
    assert client.admin.clients.revoke(ISSUED_CLIENT_ID).status == "revoked"
    assert revoke.call_count == 1


def test_unknown_scope_is_refused_locally(client: RegistryClient, api: respx.MockRouter) -> None:
    with pytest.raises(ValueError, match="Scope"):
        client.admin.clients.create(MEMBER_ID, name="batch", scopes=["everything"])


def test_audit_filters(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.get("/admin/audit").mock(
        return_value=httpx.Response(200, json={"data": [AUDIT_EVENT], "next_cursor": None})
    )
    entries = list(
        client.admin.audit.list(
            member_id=MEMBER_ID,
            action="exposure.query",
            outcome=200,
            since=datetime(2026, 2, 1, tzinfo=UTC),
            until=datetime(2026, 2, 2, tzinfo=UTC),
            page_size=100,
        )
    )
    assert dict(route.calls.last.request.url.params) == {
        "member_id": MEMBER_ID,
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
    api.patch(f"/admin/members/{MEMBER_ID}").mock(
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
