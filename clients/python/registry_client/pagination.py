"""Cursor pages (`{data, next_cursor}`) and the iterators that walk every page for the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from registry_client._base_client import CallOptions, Flow, RequestOptions
from registry_client.types._models import ResponseModel

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient

ItemT = TypeVar("ItemT", bound=BaseModel)


class CursorPage(ResponseModel, Generic[ItemT]):
    data: list[ItemT]
    next_cursor: str | None = None


class _CursorPaginator(Generic[ItemT]):
    """A listing not yet fetched: iterating it requests one page at a time, as needed."""

    def __init__(
        self,
        client: BaseClient[Any],
        path: str,
        item: type[ItemT],
        params: Mapping[str, Any] | None = None,
        *,
        options: CallOptions | None = None,
    ) -> None:
        self._client = client
        self._options = options
        self._path = path
        self._page_model = CursorPage[item]  # type: ignore[valid-type]
        self._params = dict(params or {})

    def _page_flow(self, cursor: str | None) -> Flow[CursorPage[ItemT]]:
        response = yield from self._client._request_flow(
            RequestOptions("GET", self._path, params={**self._params, "cursor": cursor})
        )
        body = response.json()
        # A listing the registry does not page yet (a bare JSON array) is one last page.
        if isinstance(body, list):
            body = {"data": body, "next_cursor": None}
        return self._page_model.model_validate(body)

    @staticmethod
    def _next(page: CursorPage[ItemT], cursor: str | None) -> str | None:
        # A cursor that does not move would loop for ever; treat it as the end.
        return page.next_cursor if page.next_cursor and page.next_cursor != cursor else None


class SyncCursorPaginator(_CursorPaginator[ItemT]):
    """Iterate items across every page; `pages()` gives the pages themselves."""

    _client: SyncAPIClient

    def pages(self) -> Iterator[CursorPage[ItemT]]:
        cursor: str | None = None
        while True:
            page = self._client._run(self._page_flow(cursor), self._options)
            yield page
            if (cursor := self._next(page, cursor)) is None:
                return

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages():
            yield from page.data


class AsyncCursorPaginator(_CursorPaginator[ItemT]):
    """`async for` over items across every page; `pages()` gives the pages themselves."""

    _client: AsyncAPIClient

    async def pages(self) -> AsyncIterator[CursorPage[ItemT]]:
        cursor: str | None = None
        while True:
            page = await self._client._run(self._page_flow(cursor), self._options)
            yield page
            if (cursor := self._next(page, cursor)) is None:
                return

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.data:
                yield item
