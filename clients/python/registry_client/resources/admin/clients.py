"""`client.admin.clients`: issue API clients to members (a secret shown once, or a
registered public key), list and revoke them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Unpack

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._resource import Resource
from registry_client.types.admin import (
    ApiClient,
    ApiClientWithSecret,
    ClientCreate,
    Scope,
)

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

ClientPages = TypeVar(
    "ClientPages", SyncCursorPaginator[ApiClient], AsyncCursorPaginator[ApiClient]
)


class _ClientsBase(Resource, Generic[ClientPages]):
    _pages: type[ClientPages]

    def list(self, member_id: str, **options: Unpack[CallOptions]) -> ClientPages:
        """A member's API clients, revoked ones included."""
        return self._pages(
            self._client,
            f"/admin/members/{path_segment(member_id)}/clients",
            ApiClient,
            options=options,
        )

    def _create_flow(
        self,
        member_id: str,
        name: str,
        scopes: Iterable[Scope | str],
        public_jwk: dict[str, Any] | None,
    ) -> Flow[ApiClientWithSecret]:
        body = ClientCreate(
            name=name, scopes=[Scope(scope) for scope in scopes], public_jwk=public_jwk
        ).model_dump(mode="json", exclude_none=True)
        path = f"/admin/members/{path_segment(member_id)}/clients"
        return self._client._model_flow(ApiClientWithSecret, "POST", path, json=body)

    def _revoke_flow(self, client_id: str) -> Flow[ApiClient]:
        path = f"/admin/clients/{path_segment(client_id)}"
        return self._client._model_flow(ApiClient, "DELETE", path)


class Clients(_ClientsBase[SyncCursorPaginator[ApiClient]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[ApiClient]

    def create(
        self,
        member_id: str,
        *,
        name: str,
        scopes: Iterable[Scope | str],
        public_jwk: dict[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiClientWithSecret:
        """Issue credentials to a member. The secret is in this answer only: hand it over now.

        With `public_jwk` (the member's Ed25519 or P-256 public key as a JWK) the client
        authenticates with `private_key_jwt` and no secret is issued.
        """
        flow = self._create_flow(member_id, name, scopes, public_jwk)
        return self._client._run(flow, options)

    def revoke(self, client_id: str, **options: Unpack[CallOptions]) -> ApiClient:
        """Revoke a client: its tokens stop working at once."""
        return self._client._run(self._revoke_flow(client_id), options)


class AsyncClients(_ClientsBase[AsyncCursorPaginator[ApiClient]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[ApiClient]

    async def create(
        self,
        member_id: str,
        *,
        name: str,
        scopes: Iterable[Scope | str],
        public_jwk: dict[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiClientWithSecret:
        """See `Clients.create`."""
        flow = self._create_flow(member_id, name, scopes, public_jwk)
        return await self._client._run(flow, options)

    async def revoke(self, client_id: str, **options: Unpack[CallOptions]) -> ApiClient:
        return await self._client._run(self._revoke_flow(client_id), options)
