"""`client.scorecard`: the member's collection figures against the industry, by branch and
month (any token of the member); `branches_csv()` gives the branches table as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from registry_client._base_client import CallOptions, Flow
from registry_client.resources._csv import csv_flow
from registry_client.resources._resource import Resource
from registry_client.types.scorecards import Scorecard

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/v1/scorecard"


class _ScorecardBase(Resource):
    def _get_flow(self, months: int | None) -> Flow[Scorecard]:
        return self._client._model_flow(Scorecard, "GET", PATH, params={"months": months})

    def _csv_flow(self) -> Flow[str]:
        return csv_flow(self._client, PATH)


class ScorecardResource(_ScorecardBase):
    _client: SyncAPIClient

    def get(self, months: int | None = None, **options: Unpack[CallOptions]) -> Scorecard:
        """Live accounts, delinquency, uncollected and recovery rates, reporting age and the
        share of disputes upheld: yours, the industry's quartiles, where you stand, per branch,
        and a series of `months` months (1 to 24, the registry's default 12), current last."""
        return self._client._run(self._get_flow(months), options)

    def branches_csv(self, **options: Unpack[CallOptions]) -> str:
        """The branches table as CSV text, one row per branch (header first)."""
        return self._client._run(self._csv_flow(), options)


class AsyncScorecardResource(_ScorecardBase):
    _client: AsyncAPIClient

    async def get(self, months: int | None = None, **options: Unpack[CallOptions]) -> Scorecard:
        """See `ScorecardResource.get`."""
        return await self._client._run(self._get_flow(months), options)

    async def branches_csv(self, **options: Unpack[CallOptions]) -> str:
        """See `ScorecardResource.branches_csv`."""
        return await self._client._run(self._csv_flow(), options)
