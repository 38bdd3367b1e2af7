"""`client.admin.audit`: search the audit log, verify its integrity, export it as NDJSON."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar, Unpack

import httpx

from registry_client._base_client import CallOptions, Flow, RequestOptions
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._resource import Resource
from registry_client.types.admin import AuditEntry
from registry_client.types.audit import AuditVerification

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

AuditPages = TypeVar(
    "AuditPages", SyncCursorPaginator[AuditEntry], AsyncCursorPaginator[AuditEntry]
)
NDJSON = "application/x-ndjson"
EXPORT_PAGE_SIZE = 500

Sink = str | os.PathLike[str] | IO[str]


def _filters(
    member_id: str | None,
    action: str | None,
    outcome: int | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "action": action,
        "outcome": outcome,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


class _ExportPage:
    """One answer of an export: NDJSON lines (a registry that streams the log), or one JSON
    page whose `next_cursor` says whether another request is needed."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.streamed = response.headers.get("content-type", "").startswith(NDJSON)


class _AuditBase(Resource, Generic[AuditPages]):
    _pages: type[AuditPages]

    def search(
        self,
        *,
        member_id: str | None = None,
        action: str | None = None,
        outcome: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AuditPages:
        """Audit entries, newest first, by member, action, outcome (HTTP status) and time
        (`since` inclusive, `until` exclusive)."""
        params = {**_filters(member_id, action, outcome, since, until), "limit": page_size}
        return self._pages(self._client, "/admin/audit", AuditEntry, params, options=options)

    list = search  # the name of earlier releases

    def _verify_flow(self) -> Flow[AuditVerification]:
        return self._client._model_flow(AuditVerification, "GET", "/admin/audit/verify")

    def _export_flow(self, params: dict[str, Any], cursor: str | None) -> Flow[_ExportPage]:
        response = yield from self._client._request_flow(
            RequestOptions(
                "GET",
                "/admin/audit",
                params={**params, "cursor": cursor, "limit": EXPORT_PAGE_SIZE},
                headers={"Accept": f"{NDJSON}, application/json;q=0.5"},
                stream=True,
            )
        )
        return _ExportPage(response)


def _page_of(content: bytes) -> tuple[list[str], str | None]:
    """A JSON page's entries as NDJSON lines, written as the registry sent them (as a
    streamed export has them), and its next cursor."""
    page = json.loads(content)
    if isinstance(page, list):  # a registry that does not page: one last page
        page = {"data": page}
    lines = [json.dumps(entry, ensure_ascii=False, separators=(",", ":")) for entry in page["data"]]
    return lines, page.get("next_cursor")


def _open_sink(sink: Sink) -> tuple[IO[str], bool]:
    if isinstance(sink, str | os.PathLike):
        return Path(sink).open("w", encoding="utf-8"), True
    return sink, False


class Audit(_AuditBase[SyncCursorPaginator[AuditEntry]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[AuditEntry]

    def verify(self, **options: Unpack[CallOptions]) -> AuditVerification:
        """Recompute every row's hash and every signed checkpoint; `ok` is False on any change."""
        return self._client._run(self._verify_flow(), options)

    def export(
        self,
        sink: Sink,
        *,
        member_id: str | None = None,
        action: str | None = None,
        outcome: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Unpack[CallOptions],
    ) -> int:
        """Write the matching entries to `sink` (a path or a text file) as NDJSON, one entry a
        line, newest first; returns how many. Streamed: never held whole in memory."""
        handle, owned = _open_sink(sink)
        written = 0
        try:
            for line in self._export_lines(
                _filters(member_id, action, outcome, since, until), options
            ):
                handle.write(line + "\n")
                written += 1
        finally:
            if owned:
                handle.close()
        return written

    def _export_lines(self, params: dict[str, Any], options: CallOptions) -> Iterator[str]:
        cursor: str | None = None
        while True:
            page = self._client._run(self._export_flow(params, cursor), options)
            try:
                if page.streamed:
                    yield from (line for line in page.response.iter_lines() if line.strip())
                    return
                entries, next_cursor = _page_of(page.response.read())
            finally:
                page.response.close()
            yield from entries
            if not next_cursor or next_cursor == cursor:
                return
            cursor = next_cursor


class AsyncAudit(_AuditBase[AsyncCursorPaginator[AuditEntry]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[AuditEntry]

    async def verify(self, **options: Unpack[CallOptions]) -> AuditVerification:
        """See `Audit.verify`."""
        return await self._client._run(self._verify_flow(), options)

    async def export_lines(
        self,
        *,
        member_id: str | None = None,
        action: str | None = None,
        outcome: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[str]:
        """The matching entries as NDJSON lines, newest first (`Audit.export` writes a file)."""
        params = _filters(member_id, action, outcome, since, until)
        cursor: str | None = None
        while True:
            page = await self._client._run(self._export_flow(params, cursor), options)
            try:
                if page.streamed:
                    async for line in page.response.aiter_lines():
                        if line.strip():
                            yield line
                    return
                entries, next_cursor = _page_of(await page.response.aread())
            finally:
                await page.response.aclose()
            for entry in entries:
                yield entry
            if not next_cursor or next_cursor == cursor:
                return
            cursor = next_cursor
