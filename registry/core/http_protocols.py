"""uvicorn's HTTP/1.1 protocols, answering a request they cannot parse (a control character
in a header, a broken request line) as a problem+json 400 rather than uvicorn's text/plain
one. Such a request never reaches the app, so this is the one place that can answer it."""

from __future__ import annotations

import secrets

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

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


class ProblemHttpToolsProtocol(HttpToolsProtocol):
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
