"""The service's httptools protocol sends a response's head with its first body bytes: one
socket write for a whole small answer, not two. Served by a real uvicorn server on a real
socket, every kind of response reads back byte for byte as uvicorn's own protocol sends it
(HEAD, empty, streamed, pipelined, `Connection: close`, `Expect: 100-continue`)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from registry.core.http_protocols import ProblemHttpToolsProtocol

WRITES: list[bytes] = []


class _Counted:
    """The connection's transport, recording each write the protocol makes."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        WRITES.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CountedService(ProblemHttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(_Counted(transport))


class CountedUvicorn(HttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(_Counted(transport))


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one\n", b"two\n", b"three\n"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    answer = b"" if path == "/empty" else b'{"echo": %d}' % len(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 204 if path == "/empty" else 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@asynccontextmanager
async def serving(protocol: type) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=protocol, log_level="warning", lifespan="off", date_header=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn's Server sets a flag, not an event)
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def exchange(port: int, *requests: bytes, pause_after_head: bool = False) -> bytes:
    """Send raw requests on one connection, and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for request in requests:
        if pause_after_head:  # Expect: 100-continue: wait for the interim answer, then send the body
            head, _, body = request.partition(b"\r\n\r\n")
            writer.write(head + b"\r\n\r\n")
            await writer.drain()
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(body)
        else:
            writer.write(request)
    await writer.drain()
    received = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    return received


CASES = {
    "a JSON answer": [b"POST /json HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"],
    "HEAD": [b"HEAD /json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"],
    "no content": [b"GET /empty HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"],
    "streamed": [b"GET /stream HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"],
    "pipelined": [
        b"GET /json HTTP/1.1\r\nhost: x\r\n\r\n"
        b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n"
        b"HEAD /json HTTP/1.1\r\nhost: x\r\n\r\n"
        b"GET /json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_response_reads_back_as_uvicorn_sends_it(case):
    answers = []
    for protocol in (CountedUvicorn, CountedService):
        async with serving(protocol) as port:
            answers.append(await exchange(port, *CASES[case]))
    assert answers[0] == answers[1]
    assert re.match(rb"HTTP/1.1 (200|204)", answers[1])


async def test_a_small_answer_leaves_in_one_write_not_two():
    request = CASES["a JSON answer"]
    for protocol, writes in ((CountedUvicorn, 2), (CountedService, 1)):
        WRITES.clear()
        async with serving(protocol) as port:
            answer = await exchange(port, *request)
        assert len(WRITES) == writes, (protocol, WRITES)
        assert b"".join(WRITES) == answer
        assert answer.endswith(b'\r\n\r\n{"echo": 5}')


async def test_a_streamed_answer_sends_its_head_with_the_first_part():
    WRITES.clear()
    async with serving(CountedService) as port:
        answer = await exchange(port, *CASES["streamed"])
    assert len(WRITES) == 4  # head and "one", "two", "three", the last chunk
    assert WRITES[0].startswith(b"HTTP/1.1 200 OK") and WRITES[0].endswith(b"4\r\none\n\r\n")
    assert b"".join(WRITES) == answer


async def test_the_interim_100_continue_is_not_held_back():
    body = b"x" * 10
    request = (
        b"POST /json HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\nexpect: 100-continue\r\n"
        b"connection: close\r\n\r\n" + body
    )
    async with serving(CountedService) as port:
        answer = await exchange(port, request, pause_after_head=True)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b'{"echo": 10}')
