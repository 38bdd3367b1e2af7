"""`client.with_raw_response`: any resource method, answering an `APIResponse` (status,
headers and the parsed body) instead of the parsed body alone.

`client.with_raw_response.records.get(record_id)` runs `client.records.get(record_id)`
and keeps the HTTP answer it got. A listing gives its first page (`CursorPage`), a
streamed one (upload errors) every item; the answer kept is the last of the call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from registry_client._base_client import _RAW_RESPONSES, APIResponse
from registry_client._exceptions import RegistryError


def _answer(responses: list[httpx.Response], parsed: Any) -> APIResponse[Any]:
    if not responses:
        raise RegistryError("the call sent no request to the registry")
    last = responses[-1]
    return APIResponse(last.status_code, last.headers, parsed, last)


def _first_sync(result: Any) -> Any:
    """A lazy listing's first page, or every item of a stream, fetched now."""
    if hasattr(result, "pages"):
        return next(iter(result.pages()))
    if isinstance(result, Iterator):
        return list(result)
    return result


async def _first_async(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    if hasattr(result, "pages"):
        async for page in result.pages():
            return page
    if isinstance(result, AsyncIterator):
        return [item async for item in result]
    return result


class RawResponses:
    """A view of a client (or of one of its resources) whose methods answer `APIResponse`."""

    def __init__(self, target: Any, is_async: bool) -> None:
        self._target = target
        self._async = is_async

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(self._target, name)
        if not callable(attribute):  # a resource, or a group of them (client.admin)
            return RawResponses(attribute, self._async)
        return self._async_method(attribute) if self._async else self._sync_method(attribute)

    @staticmethod
    def _sync_method(method: Callable[..., Any]) -> Callable[..., APIResponse[Any]]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> APIResponse[Any]:
            responses: list[httpx.Response] = []
            scope = _RAW_RESPONSES.set(responses)
            try:
                parsed = _first_sync(method(*args, **kwargs))
            finally:
                _RAW_RESPONSES.reset(scope)
            return _answer(responses, parsed)

        return call

    @staticmethod
    def _async_method(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> APIResponse[Any]:
            responses: list[httpx.Response] = []
            scope = _RAW_RESPONSES.set(responses)
            try:
                parsed = await _first_async(method(*args, **kwargs))
            finally:
                _RAW_RESPONSES.reset(scope)
            return _answer(responses, parsed)

        return call
