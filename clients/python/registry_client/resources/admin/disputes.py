"""`client.admin.disputes`: the association files disputes for borrowers who come to it,
reviews every dispute with each covered record's institution and answer, and resolves them
within the 20 days."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Unpack

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._disputes import DisputePages, DisputesBase, filing
from registry_client.types.disputes import (
    Dispute,
    DisputeReason,
    DisputeResolve,
    DisputeStatus,
    DisputeSummary,
    Resolution,
)

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/admin/disputes"


class _AdminDisputes(DisputesBase[DisputePages]):
    _path = PATH

    def _file_flow(self, body: dict[str, Any]) -> Flow[Dispute]:
        return self._client._model_flow(Dispute, "POST", PATH, json=body)

    def _resolve_flow(
        self, dispute_id: str, resolution: Resolution | str, note: str
    ) -> Flow[Dispute]:
        body = DisputeResolve(resolution=Resolution(resolution), note=note).model_dump(mode="json")
        path = f"{PATH}/{path_segment(dispute_id)}"
        return self._client._model_flow(Dispute, "PATCH", path, json=body)


class AdminDisputes(_AdminDisputes[SyncCursorPaginator[DisputeSummary]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[DisputeSummary]

    def file(
        self,
        subject: str,
        *,
        reason: DisputeReason | str,
        statement: str,
        record_id: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Dispute:
        """File for a borrower who came to the association: every live negative record about
        the subject (or the one `record_id`); a subject with none raises `UnprocessableEntity`."""
        body = filing(subject, reason, statement, record_id, None)
        return self._client._run(self._file_flow(body), options)

    def list(  # type: ignore[override]
        self,
        *,
        status: DisputeStatus | str | None = None,
        overdue: bool | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> SyncCursorPaginator[DisputeSummary]:
        """Every dispute, oldest first; `overdue=True` for those open past their deadline."""
        return super().list(status=status, overdue=overdue, page_size=page_size, options=options)

    def get(self, dispute_id: str, **options: Unpack[CallOptions]) -> Dispute:
        """One dispute with every covered record, its institution and answer, and the history."""
        return self._client._run(self._get_flow(dispute_id), options)

    def resolve(
        self,
        dispute_id: str,
        *,
        resolution: Resolution | str,
        note: str,
        **options: Unpack[CallOptions],
    ) -> Dispute:
        """`upheld` (corrections applied, records without one suppressed), `rejected` (the
        flag cleared) or `unverifiable` (kept, still flagged); a resolved dispute: `Conflict`."""
        return self._client._run(self._resolve_flow(dispute_id, resolution, note), options)


class AsyncAdminDisputes(_AdminDisputes[AsyncCursorPaginator[DisputeSummary]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[DisputeSummary]

    async def file(
        self,
        subject: str,
        *,
        reason: DisputeReason | str,
        statement: str,
        record_id: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Dispute:
        """See `AdminDisputes.file`."""
        body = filing(subject, reason, statement, record_id, None)
        return await self._client._run(self._file_flow(body), options)

    def list(  # type: ignore[override]
        self,
        *,
        status: DisputeStatus | str | None = None,
        overdue: bool | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncCursorPaginator[DisputeSummary]:
        """See `AdminDisputes.list`."""
        return super().list(status=status, overdue=overdue, page_size=page_size, options=options)

    async def get(self, dispute_id: str, **options: Unpack[CallOptions]) -> Dispute:
        """See `AdminDisputes.get`."""
        return await self._client._run(self._get_flow(dispute_id), options)

    async def resolve(
        self,
        dispute_id: str,
        *,
        resolution: Resolution | str,
        note: str,
        **options: Unpack[CallOptions],
    ) -> Dispute:
        """See `AdminDisputes.resolve`."""
        return await self._client._run(self._resolve_flow(dispute_id, resolution, note), options)
