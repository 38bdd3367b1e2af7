"""What the member's and the association's dispute resources share: building the request
bodies and the listing."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._resource import Resource
from registry_client.resources._subjects import checked_subjects
from registry_client.types.disputes import (
    Dispute,
    DisputeCreate,
    DisputeReason,
    DisputeStatus,
    DisputeSummary,
)

DisputePages = TypeVar(
    "DisputePages", SyncCursorPaginator[DisputeSummary], AsyncCursorPaginator[DisputeSummary]
)


def filing(
    subject: str,
    reason: DisputeReason | str,
    statement: str,
    record_id: str | None,
    consent_ref: str | None,
) -> dict[str, Any]:
    """A dispute's body, checked here (a raw identity in `subject` is refused before sending)."""
    body = DisputeCreate(
        subject=checked_subjects([subject])[0],
        reason=DisputeReason(reason),
        statement=statement,
        record_id=record_id,
        consent_ref=consent_ref,
    )
    return body.model_dump(mode="json", exclude_none=True)


class DisputesBase(Resource, Generic[DisputePages]):
    _pages: type[DisputePages]
    _path: str

    def list(
        self,
        *,
        status: DisputeStatus | str | None = None,
        overdue: bool | None = None,
        page_size: int | None = None,
        options: CallOptions | None = None,
    ) -> DisputePages:
        params = {
            "status": DisputeStatus(status).value if status else None,
            "overdue": None if overdue is None else str(overdue).lower(),
            "limit": page_size,
        }
        return self._pages(self._client, self._path, DisputeSummary, params, options=options)

    def _get_flow(self, dispute_id: str) -> Flow[Dispute]:
        return self._client._model_flow(Dispute, "GET", f"{self._path}/{path_segment(dispute_id)}")
