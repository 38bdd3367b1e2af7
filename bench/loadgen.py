"""The HTTP load generator, run as its own process (`python -m bench.loadgen CONFIG OUTPUT`):
`POST /v1/exposure` from N keep-alive connections, query number k asked with the access
token of the plan's member for k (one token per member, in the members' order), on a
minimal HTTP/1.1 client over asyncio streams (a fraction of httpx's cost per request, so
the generator takes little of the CPU the service and PostgreSQL need). Writes the phase's
measurement as JSON into the file OUTPUT.

CONFIG is a JSON file: host, port, access_tokens, subjects_file (one token a line), name,
batch_size, concurrency, duration, warmup, consent_ref, check (`exposure`, the default, or
`vehicle`: `POST /v1/collateral/exposure` about the file's vin tokens), and for CPU accounting the
service's process ids (service_pids), the database name (database) and its server's
postmaster (postmaster, or null)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.cpu import CpuSample
from bench.measure import Measurement, Query, QueryPlan, run_loop, run_phase

PATH = "/v1/exposure"
# What a request asks about, by the kind of check: its path and the field of the body and of
# each answer that names the asked-about token.
CHECKS = {"exposure": (PATH, "subjects", "subject"), "vehicle": ("/v1/collateral/exposure", "vehicles", "vehicle")}


class HttpError(Exception):
    pass


def request_heads(host: str, port: int, access_tokens: list[str], path: str = PATH) -> list[bytes]:
    """The head of a `POST path` for each member's access token, up to Content-Length."""
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode()
        for token in access_tokens
    ]


# uvicorn closes a keep-alive connection idle for 5 s (its default); a client reusing one
# that old would race the close, so it opens a fresh one instead, as HTTP clients do.
IDLE_REOPEN = 4.0


class Connection:
    """One keep-alive HTTP/1.1 connection; requests one at a time, as a browser-less client would."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def open(self) -> None:
        now = time.monotonic()
        if self._writer is not None and not self._writer.is_closing() and now - self._used > IDLE_REOPEN:
            self._writer.close()
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._used = now

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        await self.open()
        assert self._reader is not None and self._writer is not None
        self._writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        try:
            received = await self._reader.readuntil(b"\r\n\r\n")
            status = int(received[9:12])
            length = None
            close = False
            for line in received.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length is None:
                raise HttpError("response without Content-Length")
            payload = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            self._writer.close()
            raise
        if close:
            self._writer.close()
        self._used = time.monotonic()
        return status, payload

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def body_of(subjects: list[str], consent_ref: str, field: str = "subjects") -> bytes:
    return orjson.dumps({field: subjects, "purpose": "loan_application", "consent_ref": consent_ref})


async def drive(config: dict[str, Any]) -> Measurement:
    tokens = Path(config["subjects_file"]).read_text().split()  # noqa: ASYNC240 - read once, before any load
    batch, concurrency = config["batch_size"], config["concurrency"]
    path, field, answered_field = CHECKS[config.get("check", "exposure")]
    heads = request_heads(config["host"], config["port"], config["access_tokens"], path)
    plan = QueryPlan(len(tokens), batch, len(heads))
    connections = [Connection(config["host"], config["port"]) for _ in range(concurrency)]
    checked = False

    def query_for(worker: int) -> Query:
        connection = connections[worker]

        async def query(k: int) -> int:
            nonlocal checked
            start, end = plan.bounds(k)
            subjects = tokens[start:end]
            status, payload = await connection.post(
                heads[plan.member(k)], body_of(subjects, config["consent_ref"], field)
            )
            if status != 200:
                raise HttpError(f"HTTP {status}: {payload[:200]!r}")
            if not checked:  # the answer is the contract's, once per phase (parsing costs)
                checked = True
                results = orjson.loads(payload)["results"]
                if [r[answered_field] for r in results] != subjects:
                    raise HttpError(f"the answer does not list the {field} asked, in order")
            return len(subjects)

        return query

    try:
        return await run_phase(
            config["name"],
            query_for,
            batch_size=batch,
            concurrency=concurrency,
            duration=config["duration"],
            warmup=config["warmup"],
            cpu=lambda: CpuSample.take(config["database"], config["service_pids"], postmaster=config.get("postmaster")),
        )
    finally:
        for connection in connections:
            await connection.close()


def main(argv: list[str]) -> None:
    """`python -m bench.loadgen CONFIG OUTPUT`: the measurement goes to the file OUTPUT, not to
    stdout, which arrived cut at 128 KiB once a window held enough latencies."""
    config = json.loads(Path(argv[1]).read_text())
    measurement = run_loop(drive(config))
    Path(argv[2]).write_text(json.dumps({"summary": measurement.summary(), "latencies_ms": measurement.latencies_ms}))


if __name__ == "__main__":
    main(sys.argv)
