"""`client.admin.stats`: industry statistics, one member's figures over 12 months, and the
league table of members' collection figures (as data or CSV)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client.resources._csv import csv_flow
from registry_client.resources._resource import Resource
from registry_client.types.scorecards import LeagueSort, LeagueTable
from registry_client.types.stats import IndustryStats, MemberStats

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/admin/stats"
LEAGUE_PATH = f"{PATH}/league"


class _StatsBase(Resource):
    def _league_flow(self, sort: LeagueSort | str | None) -> Flow[LeagueTable]:
        return self._client._model_flow(LeagueTable, "GET", LEAGUE_PATH, params={"sort": sort})

    def _league_csv_flow(self, sort: LeagueSort | str | None) -> Flow[str]:
        return csv_flow(self._client, LEAGUE_PATH, {"sort": sort})


class Stats(_StatsBase):
    _client: SyncAPIClient

    def league(
        self, sort: LeagueSort | str | None = None, **options: Unpack[CallOptions]
    ) -> LeagueTable:
        """Every reporting member ranked worst first on `sort` (the registry's default
        `uncollected_rate`; lowest first for `recovery_rate`), with its scorecard figures
        and its branch count; members without a value come last."""
        return self._client._run(self._league_flow(sort), options)

    def league_csv(
        self, sort: LeagueSort | str | None = None, **options: Unpack[CallOptions]
    ) -> str:
        """The league table as CSV text (header first)."""
        return self._client._run(self._league_csv_flow(sort), options)

    def industry(self, **options: Unpack[CallOptions]) -> IndustryStats:
        """Records, delinquency and uncollected rates, disputes and inquiries: industry-wide
        and per member."""
        return self._client._run(self._client._model_flow(IndustryStats, "GET", PATH), options)

    def member(self, member_id: str, **options: Unpack[CallOptions]) -> MemberStats:
        """One member's figures with a 12-month series."""
        path = f"{PATH}/members/{path_segment(member_id)}"
        return self._client._run(self._client._model_flow(MemberStats, "GET", path), options)


class AsyncStats(_StatsBase):
    _client: AsyncAPIClient

    async def league(
        self, sort: LeagueSort | str | None = None, **options: Unpack[CallOptions]
    ) -> LeagueTable:
        """See `Stats.league`."""
        return await self._client._run(self._league_flow(sort), options)

    async def league_csv(
        self, sort: LeagueSort | str | None = None, **options: Unpack[CallOptions]
    ) -> str:
        """See `Stats.league_csv`."""
        return await self._client._run(self._league_csv_flow(sort), options)

    async def industry(self, **options: Unpack[CallOptions]) -> IndustryStats:
        """See `Stats.industry`."""
        flow = self._client._model_flow(IndustryStats, "GET", PATH)
        return await self._client._run(flow, options)

    async def member(self, member_id: str, **options: Unpack[CallOptions]) -> MemberStats:
        """See `Stats.member`."""
        path = f"{PATH}/members/{path_segment(member_id)}"
        return await self._client._run(self._client._model_flow(MemberStats, "GET", path), options)
