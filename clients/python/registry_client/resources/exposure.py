"""`client.exposure`: what other institutions report about borrowers, asked before lending."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Unpack

from registry_client._base_client import CallOptions, Flow
from registry_client.resources._subjects import checked_subjects, in_chunks
from registry_client.types.exposure import ExposureQuery, ExposureResponse, Purpose, SubjectExposure

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient


class _ExposureBase:
    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client

    def _query_flow(
        self, subjects: Iterable[str], purpose: Purpose | str, consent_ref: str | None
    ) -> Flow[ExposureResponse]:
        # Everything is checked before the first chunk goes out: each accepted chunk is
        # recorded as an inquiry, so failing half-way would leave a half-made query on file.
        bodies = [
            ExposureQuery(
                subjects=chunk, purpose=Purpose(purpose), consent_ref=consent_ref
            ).model_dump(mode="json", exclude_none=True)
            for chunk in in_chunks(checked_subjects(subjects))
        ]
        results: list[SubjectExposure] = []
        for body in bodies:
            answer = yield from self._client._model_flow(
                ExposureResponse, "POST", "/v1/exposure", json=body
            )
            results.extend(answer.results)
        return ExposureResponse(results=results)


class Exposure(_ExposureBase):
    _client: SyncAPIClient

    def query(
        self,
        subjects: Iterable[str],
        *,
        purpose: Purpose | str,
        consent_ref: str | None = None,
        **options: Unpack[CallOptions],
    ) -> ExposureResponse:
        """Exposure of each subject (brs1 tokens), in the order given; sent 1000 per request.

        `loan_application` needs `consent_ref` (the borrower's authorization); the other
        purposes need an existing record of the caller for each subject.
        """
        return self._client._run(self._query_flow(subjects, purpose, consent_ref), options)


class AsyncExposure(_ExposureBase):
    _client: AsyncAPIClient

    async def query(
        self,
        subjects: Iterable[str],
        *,
        purpose: Purpose | str,
        consent_ref: str | None = None,
        **options: Unpack[CallOptions],
    ) -> ExposureResponse:
        """See `Exposure.query`."""
        return await self._client._run(self._query_flow(subjects, purpose, consent_ref), options)
