"""`client.admin.stats`: industry statistics, and one member's figures over 12 months."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from registry_client._base_client import CallOptions, path_segment
from registry_client.resources._resource import Resource
from registry_client.types.stats import IndustryStats, MemberStats

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/admin/stats"


class Stats(Resource):
    _client: SyncAPIClient

    def industry(self, **options: Unpack[CallOptions]) -> IndustryStats:
        """Records, delinquency and uncollected rates, disputes and inquiries: industry-wide
        and per member."""
        return self._client._run(self._client._model_flow(IndustryStats, "GET", PATH), options)

    def member(self, member_id: str, **options: Unpack[CallOptions]) -> MemberStats:
        """One member's figures with a 12-month series."""
        path = f"{PATH}/members/{path_segment(member_id)}"
        return self._client._run(self._client._model_flow(MemberStats, "GET", path), options)


class AsyncStats(Resource):
    _client: AsyncAPIClient

    async def industry(self, **options: Unpack[CallOptions]) -> IndustryStats:
        """See `Stats.industry`."""
        flow = self._client._model_flow(IndustryStats, "GET", PATH)
        return await self._client._run(flow, options)

    async def member(self, member_id: str, **options: Unpack[CallOptions]) -> MemberStats:
        """See `Stats.member`."""
        path = f"{PATH}/members/{path_segment(member_id)}"
        return await self._client._run(self._client._model_flow(MemberStats, "GET", path), options)
