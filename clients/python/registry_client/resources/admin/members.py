"""`client.admin.members`: onboard, list, read, suspend and reactivate members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar, Unpack

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._resource import Resource
from registry_client.types.admin import (
    Member,
    MemberCreate,
    MemberKind,
    MemberStatus,
    MemberUpdate,
)

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

MemberPages = TypeVar("MemberPages", SyncCursorPaginator[Member], AsyncCursorPaginator[Member])


class _MembersBase(Resource, Generic[MemberPages]):
    _pages: type[MemberPages]

    def list(self, *, page_size: int | None = None, **options: Unpack[CallOptions]) -> MemberPages:
        """Every member, page after page as the iteration needs them."""
        return self._pages(
            self._client, "/admin/members", Member, {"limit": page_size}, options=options
        )

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
        **options: Unpack[CallOptions],
    ) -> Member:
        """Onboard a member; a code already in use raises `Conflict`. Quotas: None is no quota."""
        quotas = {
            "quota_exposure_per_minute": quota_exposure_per_minute,
            "quota_writes_per_second": quota_writes_per_second,
        }
        return self._client._run(self._create_flow(code, name, kind, **quotas), options)

    def get(self, member_id: str, **options: Unpack[CallOptions]) -> Member:
        return self._client._run(self._get_flow(member_id), options)

    def update(
        self, member_id: str, update: MemberUpdate, **options: Unpack[CallOptions]
    ) -> Member:
        """Change status or quotas; fields not set on `update` stay as they are."""
        return self._client._run(self._update_flow(member_id, update), options)

    def suspend(self, member_id: str, **options: Unpack[CallOptions]) -> Member:
        """Suspend a member: its clients are refused at once, not when their tokens expire."""
        return self.update(member_id, MemberUpdate(status=MemberStatus.SUSPENDED), **options)

    def reactivate(self, member_id: str, **options: Unpack[CallOptions]) -> Member:
        return self.update(member_id, MemberUpdate(status=MemberStatus.ACTIVE), **options)


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
        **options: Unpack[CallOptions],
    ) -> Member:
        """See `Members.create`."""
        quotas = {
            "quota_exposure_per_minute": quota_exposure_per_minute,
            "quota_writes_per_second": quota_writes_per_second,
        }
        return await self._client._run(self._create_flow(code, name, kind, **quotas), options)

    async def get(self, member_id: str, **options: Unpack[CallOptions]) -> Member:
        return await self._client._run(self._get_flow(member_id), options)

    async def update(
        self, member_id: str, update: MemberUpdate, **options: Unpack[CallOptions]
    ) -> Member:
        return await self._client._run(self._update_flow(member_id, update), options)

    async def suspend(self, member_id: str, **options: Unpack[CallOptions]) -> Member:
        return await self.update(member_id, MemberUpdate(status=MemberStatus.SUSPENDED), **options)

    async def reactivate(self, member_id: str, **options: Unpack[CallOptions]) -> Member:
        return await self.update(member_id, MemberUpdate(status=MemberStatus.ACTIVE), **options)
