"""`client.admin`: the association's administration of members, API clients and the audit log.

Needs a client with the `admin` scope (the one `registry bootstrap` prints).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from registry_client._base_client import Flow, path_segment
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.types.admin import (
    ApiClient,
    ApiClientWithSecret,
    AuditEntry,
    ClientCreate,
    Member,
    MemberCreate,
    MemberKind,
    MemberStatus,
    MemberUpdate,
    Scope,
)

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient


MemberPages = TypeVar("MemberPages", SyncCursorPaginator[Member], AsyncCursorPaginator[Member])
ClientPages = TypeVar(
    "ClientPages", SyncCursorPaginator[ApiClient], AsyncCursorPaginator[ApiClient]
)
AuditPages = TypeVar(
    "AuditPages", SyncCursorPaginator[AuditEntry], AsyncCursorPaginator[AuditEntry]
)


class _AdminResource:
    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client


class _MembersBase(_AdminResource, Generic[MemberPages]):
    _pages: type[MemberPages]

    def list(self, *, page_size: int | None = None) -> MemberPages:
        """Every member, page after page as the iteration needs them."""
        return self._pages(self._client, "/admin/members", Member, {"limit": page_size})

    def _create_flow(
        self, code: str, name: str, kind: MemberKind | str, **quotas: int | None
    ) -> Flow[Member]:
        member = MemberCreate(code=code, name=name, kind=MemberKind(kind), **quotas)
        body = member.model_dump(mode="json", exclude_none=True)
        return self._client._model_flow(Member, "POST", "/admin/members", json=body)

    def _get_flow(self, member_id: str) -> Flow[Member]:
        return self._client._model_flow(Member, "GET", f"/admin/members/{path_segment(member_id)}")

    def _update_flow(self, member_id: str, update: MemberUpdate) -> Flow[Member]:
        body = update.model_dump(mode="json", exclude_unset=True)
        return self._client._model_flow(
            Member, "PATCH", f"/admin/members/{path_segment(member_id)}", json=body
        )


class Members(_MembersBase[SyncCursorPaginator[Member]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[Member]

    def create(
        self,
        *,
        code: str,
        name: str,
        kind: MemberKind | str,
        quota_exposure_per_minute: int | None = None,
        quota_writes_per_second: int | None = None,
    ) -> Member:
        """Onboard a member; a code already in use raises `Conflict`. Quotas: None is no quota."""
        quotas = {
            "quota_exposure_per_minute": quota_exposure_per_minute,
            "quota_writes_per_second": quota_writes_per_second,
        }
        return self._client._run(self._create_flow(code, name, kind, **quotas))

    def get(self, member_id: str) -> Member:
        return self._client._run(self._get_flow(member_id))

    def update(self, member_id: str, update: MemberUpdate) -> Member:
        """Change status or quotas; fields not set on `update` stay as they are."""
        return self._client._run(self._update_flow(member_id, update))

    def suspend(self, member_id: str) -> Member:
        """Suspend a member: its clients are refused at once, not when their tokens expire."""
        return self.update(member_id, MemberUpdate(status=MemberStatus.SUSPENDED))

    def reactivate(self, member_id: str) -> Member:
        return self.update(member_id, MemberUpdate(status=MemberStatus.ACTIVE))


class AsyncMembers(_MembersBase[AsyncCursorPaginator[Member]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[Member]

    async def create(
        self,
        *,
        code: str,
        name: str,
        kind: MemberKind | str,
        quota_exposure_per_minute: int | None = None,
        quota_writes_per_second: int | None = None,
    ) -> Member:
        """See `Members.create`."""
        quotas = {
            "quota_exposure_per_minute": quota_exposure_per_minute,
            "quota_writes_per_second": quota_writes_per_second,
        }
        return await self._client._run(self._create_flow(code, name, kind, **quotas))

    async def get(self, member_id: str) -> Member:
        return await self._client._run(self._get_flow(member_id))

    async def update(self, member_id: str, update: MemberUpdate) -> Member:
        return await self._client._run(self._update_flow(member_id, update))

    async def suspend(self, member_id: str) -> Member:
        return await self.update(member_id, MemberUpdate(status=MemberStatus.SUSPENDED))

    async def reactivate(self, member_id: str) -> Member:
        return await self.update(member_id, MemberUpdate(status=MemberStatus.ACTIVE))


class _ClientsBase(_AdminResource, Generic[ClientPages]):
    _pages: type[ClientPages]

    def list(self, member_id: str) -> ClientPages:
        """A member's API clients, revoked ones included."""
        return self._pages(
            self._client, f"/admin/members/{path_segment(member_id)}/clients", ApiClient
        )

    def _create_flow(
        self, member_id: str, name: str, scopes: Iterable[Scope | str]
    ) -> Flow[ApiClientWithSecret]:
        body = ClientCreate(name=name, scopes=[Scope(scope) for scope in scopes]).model_dump(
            mode="json"
        )
        path = f"/admin/members/{path_segment(member_id)}/clients"
        return self._client._model_flow(ApiClientWithSecret, "POST", path, json=body)

    def _revoke_flow(self, client_id: str) -> Flow[ApiClient]:
        path = f"/admin/clients/{path_segment(client_id)}"
        return self._client._model_flow(ApiClient, "DELETE", path)


class Clients(_ClientsBase[SyncCursorPaginator[ApiClient]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[ApiClient]

    def create(
        self, member_id: str, *, name: str, scopes: Iterable[Scope | str]
    ) -> ApiClientWithSecret:
        """Issue credentials to a member. The secret is in this answer only: hand it over now."""
        return self._client._run(self._create_flow(member_id, name, scopes))

    def revoke(self, client_id: str) -> ApiClient:
        """Revoke a client: its tokens stop working at once."""
        return self._client._run(self._revoke_flow(client_id))


class AsyncClients(_ClientsBase[AsyncCursorPaginator[ApiClient]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[ApiClient]

    async def create(
        self, member_id: str, *, name: str, scopes: Iterable[Scope | str]
    ) -> ApiClientWithSecret:
        return await self._client._run(self._create_flow(member_id, name, scopes))

    async def revoke(self, client_id: str) -> ApiClient:
        return await self._client._run(self._revoke_flow(client_id))


class _AuditBase(_AdminResource, Generic[AuditPages]):
    _pages: type[AuditPages]

    def list(
        self,
        *,
        member_id: str | None = None,
        action: str | None = None,
        outcome: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int | None = None,
    ) -> AuditPages:
        """Audit entries, newest first, by member, action, outcome (HTTP status) and time."""
        params = {
            "member_id": member_id,
            "action": action,
            "outcome": outcome,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "limit": page_size,
        }
        return self._pages(self._client, "/admin/audit", AuditEntry, params)


class Audit(_AuditBase[SyncCursorPaginator[AuditEntry]]):
    _pages = SyncCursorPaginator[AuditEntry]


class AsyncAudit(_AuditBase[AsyncCursorPaginator[AuditEntry]]):
    _pages = AsyncCursorPaginator[AuditEntry]


class Admin:
    """`client.admin`: members, clients and audit."""

    def __init__(self, client: SyncAPIClient) -> None:
        self.members = Members(client)
        self.clients = Clients(client)
        self.audit = Audit(client)


class AsyncAdmin:
    """`client.admin` of the async client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self.members = AsyncMembers(client)
        self.clients = AsyncClients(client)
        self.audit = AsyncAudit(client)
