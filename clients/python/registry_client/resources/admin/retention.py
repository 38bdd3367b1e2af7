"""`client.admin.retention`: run the retention pass now (the service also runs it daily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from registry_client._base_client import CallOptions
from registry_client.resources._resource import Resource
from registry_client.types.retention import RetentionResult

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/admin/retention/run"


class Retention(Resource):
    _client: SyncAPIClient

    def run(self, **options: Unpack[CallOptions]) -> RetentionResult:
        """Delete expired records, old inquiries, alerts and deliveries; answers the counts."""
        return self._client._run(self._client._model_flow(RetentionResult, "POST", PATH), options)


class AsyncRetention(Resource):
    _client: AsyncAPIClient

    async def run(self, **options: Unpack[CallOptions]) -> RetentionResult:
        """See `Retention.run`."""
        flow = self._client._model_flow(RetentionResult, "POST", PATH)
        return await self._client._run(flow, options)
