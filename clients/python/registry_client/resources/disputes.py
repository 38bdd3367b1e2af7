"""`client.disputes`: a member files a dispute for a borrower, follows the disputes it filed
or that cover its records, and answers for its covered records (scope `disputes`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Unpack

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._disputes import DisputePages, DisputesBase, filing
from registry_client.types.disputes import (
    AnswerAction,
    Dispute,
    DisputeAnswer,
    DisputeFiled,
    DisputeReason,
    DisputeStatus,
    DisputeSummary,
)

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/v1/disputes"


class _MemberDisputes(DisputesBase[DisputePages]):
    _path = PATH

    def _file_flow(self, body: dict[str, Any]) -> Flow[DisputeFiled]:
        return self._client._model_flow(DisputeFiled, "POST", PATH, json=body)

    def _answer_flow(
        self,
        dispute_id: str,
        record_id: str,
        action: AnswerAction | str,
        note: str,
        correction: dict[str, Any] | None,
    ) -> Flow[Dispute]:
        body = DisputeAnswer(
            record_id=record_id, action=AnswerAction(action), note=note, correction=correction
        ).model_dump(mode="json", exclude_none=True)
        path = f"{PATH}/{path_segment(dispute_id)}/response"
        return self._client._model_flow(Dispute, "POST", path, json=body)


class Disputes(_MemberDisputes[SyncCursorPaginator[DisputeSummary]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[DisputeSummary]

    def file(
        self,
        subject: str,
        *,
        reason: DisputeReason | str,
        statement: str,
        record_id: str | None = None,
        consent_ref: str | None = None,
        **options: Unpack[CallOptions],
    ) -> DisputeFiled:
        """File a dispute for a borrower (a brs1 token) you hold a live record on, or with
        the borrower's consent (`consent_ref`). With `record_id` (one of yours) it covers
        that record, else every live negative record about the subject, whoever holds it.
        The answer is the same whether or not any record is covered."""
        body = filing(subject, reason, statement, record_id, consent_ref)
        return self._client._run(self._file_flow(body), options)

    def list(  # type: ignore[override]
        self,
        *,
        status: DisputeStatus | str | None = None,
        overdue: bool | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> SyncCursorPaginator[DisputeSummary]:
        """Disputes you filed or that cover your records, page after page as needed."""
        return super().list(status=status, overdue=overdue, page_size=page_size, options=options)

    def get(self, dispute_id: str, **options: Unpack[CallOptions]) -> Dispute:
        """One dispute with your covered records and its history."""
        return self._client._run(self._get_flow(dispute_id), options)

    def answer(
        self,
        dispute_id: str,
        *,
        record_id: str,
        action: AnswerAction | str,
        note: str,
        correction: dict[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> Dispute:
        """Answer for one of your covered records: `confirm` it as reported, or `correct` it
        with the fields that change (applied only if the association upholds the dispute).
        A later answer replaces an earlier one until the dispute is resolved."""
        flow = self._answer_flow(dispute_id, record_id, action, note, correction)
        return self._client._run(flow, options)


class AsyncDisputes(_MemberDisputes[AsyncCursorPaginator[DisputeSummary]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[DisputeSummary]

    async def file(
        self,
        subject: str,
        *,
        reason: DisputeReason | str,
        statement: str,
        record_id: str | None = None,
        consent_ref: str | None = None,
        **options: Unpack[CallOptions],
    ) -> DisputeFiled:
        """See `Disputes.file`."""
        body = filing(subject, reason, statement, record_id, consent_ref)
        return await self._client._run(self._file_flow(body), options)

    def list(  # type: ignore[override]
        self,
        *,
        status: DisputeStatus | str | None = None,
        overdue: bool | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncCursorPaginator[DisputeSummary]:
        """See `Disputes.list`."""
        return super().list(status=status, overdue=overdue, page_size=page_size, options=options)

    async def get(self, dispute_id: str, **options: Unpack[CallOptions]) -> Dispute:
        """See `Disputes.get`."""
        return await self._client._run(self._get_flow(dispute_id), options)

    async def answer(
        self,
        dispute_id: str,
        *,
        record_id: str,
        action: AnswerAction | str,
        note: str,
        correction: dict[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> Dispute:
        """See `Disputes.answer`."""
        flow = self._answer_flow(dispute_id, record_id, action, note, correction)
        return await self._client._run(flow, options)
