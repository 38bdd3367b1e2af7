"""`client.admin.thresholds`: the association's limits on members' figures. A member past a
limit raises `member.threshold_crossed` in the association's feed (`client.admin.alerts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from registry_client._base_client import CallOptions, Flow
from registry_client.resources._resource import Resource
from registry_client.types.scorecards import Thresholds, ThresholdsPut

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/admin/thresholds"


class _ThresholdsBase(Resource):
    def _get_flow(self) -> Flow[Thresholds]:
        return self._client._model_flow(Thresholds, "GET", PATH)

    def _set_flow(self, limits: ThresholdsPut) -> Flow[Thresholds]:
        body = limits.model_dump(mode="json", exclude_none=True)
        return self._client._model_flow(Thresholds, "PUT", PATH, json=body)


class ThresholdsResource(_ThresholdsBase):
    _client: SyncAPIClient

    def get(self, **options: Unpack[CallOptions]) -> Thresholds:
        """The limits in force; a figure without a limit is None."""
        return self._client._run(self._get_flow(), options)

    def set(
        self,
        *,
        delinquency_rate: float | None = None,
        uncollected_rate: float | None = None,
        recovery_rate: float | None = None,
        reporting_age_days: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Thresholds:
        """Replace the whole set: a figure left out has no limit afterwards. Rates are
        fractions (0.3 is 30 %); a member is past a limit when its figure is above it (below
        it, for `recovery_rate`)."""
        limits = ThresholdsPut(
            delinquency_rate=delinquency_rate,
            uncollected_rate=uncollected_rate,
            recovery_rate=recovery_rate,
            reporting_age_days=reporting_age_days,
        )
        return self._client._run(self._set_flow(limits), options)


class AsyncThresholdsResource(_ThresholdsBase):
    _client: AsyncAPIClient

    async def get(self, **options: Unpack[CallOptions]) -> Thresholds:
        """See `ThresholdsResource.get`."""
        return await self._client._run(self._get_flow(), options)

    async def set(
        self,
        *,
        delinquency_rate: float | None = None,
        uncollected_rate: float | None = None,
        recovery_rate: float | None = None,
        reporting_age_days: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Thresholds:
        """See `ThresholdsResource.set`."""
        limits = ThresholdsPut(
            delinquency_rate=delinquency_rate,
            uncollected_rate=uncollected_rate,
            recovery_rate=recovery_rate,
            reporting_age_days=reporting_age_days,
        )
        return await self._client._run(self._set_flow(limits), options)
