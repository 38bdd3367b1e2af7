"""Pure ASGI middleware (cheap on the hot path): request ids and declared body sizes."""

from __future__ import annotations

import re
import secrets

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX, Invalid, PayloadTooLarge, oauth_error_fields

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Gives every request an id (the caller's, when it is sane) and echoes it as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        request_id = offered if offered and SANE_REQUEST_ID.match(offered) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with a 413 problem: at once when
    Content-Length declares too much, and as soon as a streamed body passes the limit.
    (FastAPI's own `max_body_size` answers in plain text.) Streamed-upload paths, which
    set their own limits, are exempt."""

    def __init__(self, app: ASGIApp, max_bytes: int, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await self._refuse(scope, send)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes through FastAPI's body parsing to the problem handler.
                    raise HTTPException(413, detail=f"The request body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = orjson.dumps(
            {
                "type": PROBLEM_TYPE_PREFIX + PayloadTooLarge.slug,
                "title": PayloadTooLarge.title,
                "status": 413,
                "detail": f"The request body exceeds {self.max_bytes} bytes",
                "instance": scope["path"],
                "request_id": scope.get("state", {}).get("request_id"),
                "errors": [],
                **oauth_error_fields(scope["path"], 413, f"The request body exceeds {self.max_bytes} bytes"),
            }
        )
        headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class NulGuardMiddleware:
    """Refuses a NUL character anywhere in the path or query string with a 422 problem:
    no identifier or filter holds one, and PostgreSQL text cannot store it."""

    def __init__(self, app: ASGIApp, query_exempt_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.query_exempt_paths = frozenset(query_exempt_paths)  # routes that read no query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            (b"%00" in scope.get("query_string", b"") and scope["path"] not in self.query_exempt_paths)
            or "\x00" in scope["path"]
            or b"%00" in scope.get("raw_path", b"")
        ):
            body = orjson.dumps(
                {
                    "type": PROBLEM_TYPE_PREFIX + Invalid.slug,
                    "title": Invalid.title,
                    "status": 422,
                    "detail": "The path or query string holds a NUL character",
                    "instance": scope["path"].replace("\x00", "\ufffd"),
                    "request_id": scope.get("state", {}).get("request_id"),
                    "errors": [{"field": "query", "message": "NUL characters are not allowed"}],
                }
            )
            headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 422, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
