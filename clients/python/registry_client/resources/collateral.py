"""`client.collateral`: whether vehicles are already pledged at other institutions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Unpack

from registry_client._base_client import CallOptions, Flow
from registry_client.resources._subjects import checked_subjects, in_chunks
from registry_client.types.collateral import VehicleCheck, VehicleCheckResponse, VehicleExposure
from registry_client.types.exposure import Purpose

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient


class _CollateralBase:
    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client

    def _exposure_flow(
        self, vehicles: Iterable[str], purpose: Purpose | str, consent_ref: str | None
    ) -> Flow[VehicleCheckResponse]:
        bodies = [
            VehicleCheck(
                vehicles=chunk, purpose=Purpose(purpose), consent_ref=consent_ref
            ).model_dump(mode="json", exclude_none=True)
            for chunk in in_chunks(checked_subjects(vehicles))
        ]
        results: list[VehicleExposure] = []
        for body in bodies:
            answer = yield from self._client._model_flow(
                VehicleCheckResponse, "POST", "/v1/collateral/exposure", json=body
            )
            results.extend(answer.results)
        return VehicleCheckResponse(results=results)


class Collateral(_CollateralBase):
    _client: SyncAPIClient

    def exposure(
        self,
        vehicles: Iterable[str],
        *,
        purpose: Purpose | str,
        consent_ref: str | None = None,
        **options: Unpack[CallOptions],
    ) -> VehicleCheckResponse:
        """Other institutions' live accounts on each vehicle (`vin` tokens), in the order
        given; sent 1000 per request. The purpose rules are those of `exposure.query`."""
        return self._client._run(self._exposure_flow(vehicles, purpose, consent_ref), options)


class AsyncCollateral(_CollateralBase):
    _client: AsyncAPIClient

    async def exposure(
        self,
        vehicles: Iterable[str],
        *,
        purpose: Purpose | str,
        consent_ref: str | None = None,
        **options: Unpack[CallOptions],
    ) -> VehicleCheckResponse:
        """See `Collateral.exposure`."""
        return await self._client._run(self._exposure_flow(vehicles, purpose, consent_ref), options)
