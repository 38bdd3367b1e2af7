"""uvicorn's HTTP/1.1 protocols, answering a request they cannot parse (a control character
in a header, a broken request line) as a problem+json 400 rather than uvicorn's text/plain
one. Such a request never reaches the app, so this is the one place that can answer it.

The httptools protocol also sends a response's head with its first body bytes: uvicorn
writes the status line and headers as soon as the app starts the response, and the body
apart, so a small answer (an exposure query's) cost two socket writes and two packets."""

from __future__ import annotations

import secrets
from typing import Any

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from registry.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX, BadRequest

DETAIL = (
    "The request is not valid HTTP/1.1: a header holds a character HTTP does not allow, "
    "or the request line is malformed"
)

# What `registry serve` passes as uvicorn's `http` (httptools, as uvicorn's own "auto"
# picks); an import string, so that `--workers N` processes load it too.
HTTP_PROTOCOL = "registry.core.http_protocols:ProblemHttpToolsProtocol"


def _problem() -> tuple[bytes, list[tuple[bytes, bytes]]]:
    request_id = secrets.token_hex(8)
    body = orjson.dumps(
        {
            "type": PROBLEM_TYPE_PREFIX + BadRequest.slug,
            "title": BadRequest.title,
            "status": 400,
            "detail": DETAIL,
            "instance": None,
            "request_id": request_id,
            "errors": [],
        }
    )
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        (b"connection", b"close"),
    ]
    return body, headers


class _HeadHeldBack:
    """One response's transport: while `holding`, writes are kept (the head, written when the
    response starts) and leave with the next write (the body's first bytes), or on `flush`
    and `close`. Everything else is the connection's transport."""

    __slots__ = ("_held", "_transport", "holding")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._held = b""
        self.holding = False

    def write(self, data: bytes) -> None:
        if self.holding:
            self._held += data
            return
        if self._held:
            data, self._held = self._held + data, b""
        self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            self._transport.write(self._held)
            self._held = b""

    def close(self) -> None:
        self.flush()  # what uvicorn had written already, as before
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _whole_responses(cycle: RequestResponseCycle) -> None:
    """Make `cycle` hold its response head back until its first body write (or the end of a
    response that writes no body: HEAD, an empty one)."""
    transport = cycle.transport = _HeadHeldBack(cycle.transport)  # type: ignore[assignment]
    send = cycle.send

    async def send_whole(message: Any) -> None:
        if message["type"] == "http.response.start":
            transport.holding = True
            try:
                await send(message)
            finally:
                transport.holding = False
            return
        try:
            await send(message)
        finally:
            transport.flush()

    cycle.send = send_whole  # type: ignore[method-assign]


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        _whole_responses(cycle)
        super()._start_asgi_task(cycle, app)

    def send_400_response(self, msg: str) -> None:
        body, headers = _problem()
        content = [STATUS_LINE[400]]
        for name, value in [*self.server_state.default_headers, *headers]:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"\r\n", body])
        self.transport.write(b"".join(content))
        self.transport.close()


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body, headers = _problem()
        response = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
        for event in (response, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()
