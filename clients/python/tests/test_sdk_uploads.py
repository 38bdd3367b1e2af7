"""Uploads: the file streamed (gzipped on the fly or sent as it is), reopened on a retry,
the job waited for, and the error report read line by line as typed models."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from registry_client import NotFound, RegistryClient, UnprocessableEntity
from registry_client._progress import ProgressHook, progress_bar
from registry_client.resources import uploads as uploads_module
from registry_client.types import UploadErrorLine, UploadJob

from sdk_helpers import async_client, problem, upload_job

CSV = "subject,subject_type,account_ref,product,status,as_of\n" + "".join(
    f"{'a' * 64},individual,ACC-{n},auto_loan,current,2026-01-31\n" for n in range(2000)
)


@pytest.fixture
def csv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Small slices, so that even this file goes out as many chunks.
    monkeypatch.setattr(uploads_module, "READ_BYTES", 4096)
    path = tmp_path / "november.csv"
    path.write_text(CSV)
    return path


class Recorder:
    """A registry upload endpoint that keeps what each attempt sent, then answers in turn."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[httpx.Headers, bytes]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.headers, request.read()))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def accepted(**counts: Any) -> httpx.Response:
    return httpx.Response(202, json=upload_job(**counts), headers={"Location": "/v1/uploads/x"})


def test_a_file_is_streamed_gzipped_on_the_fly(
    client: RegistryClient, api: respx.MockRouter, csv_file: Path
) -> None:
    endpoint = Recorder(accepted())
    api.post("/v1/uploads").mock(side_effect=endpoint)
    finished = client.uploads.upload(csv_file, progress=False)
    assert isinstance(finished, UploadJob)
    assert (finished.status, finished.created, finished.rejected) == ("completed", 2, 1)
    [(headers, body)] = endpoint.requests
    assert headers["content-type"] == "text/csv"
    assert headers["content-encoding"] == "gzip"
    # Sent as it was produced (chunked), never measured up front as a body held whole is.
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert gzip.decompress(body) == csv_file.read_bytes()
    assert len(body) < csv_file.stat().st_size / 5
    assert headers["idempotency-key"] and headers["authorization"] == "Bearer jwt-1"


def test_a_gz_file_goes_as_it_is_and_the_format_comes_from_the_name(
    client: RegistryClient, api: respx.MockRouter, tmp_path: Path
) -> None:
    path = tmp_path / "november.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"account_ref": "A"}\n'))
    endpoint = Recorder(accepted())
    api.post("/v1/uploads").mock(side_effect=endpoint)
    client.uploads.upload(path, progress=False)
    [(headers, body)] = endpoint.requests
    assert headers["content-type"] == "application/x-ndjson"
    assert headers["content-encoding"] == "gzip"
    assert body == path.read_bytes()


def test_compress_false_sends_the_plain_file(
    client: RegistryClient, api: respx.MockRouter, tmp_path: Path
) -> None:
    path = tmp_path / "records.txt"
    path.write_text('{"account_ref": "A"}\n')
    endpoint = Recorder(accepted())
    api.post("/v1/uploads").mock(side_effect=endpoint)
    client.uploads.upload(path, format="ndjson", compress=False, progress=False)
    [(headers, body)] = endpoint.requests
    assert "content-encoding" not in headers
    assert body == path.read_bytes()


@pytest.mark.parametrize(
    "failure",
    [problem(503, "Service unavailable"), httpx.ConnectError("connection reset")],
    ids=["503", "connection"],
)
def test_a_retried_upload_reopens_the_file(
    client: RegistryClient,
    api: respx.MockRouter,
    csv_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    failure: httpx.Response | Exception,
) -> None:
    opened: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == csv_file:
            opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    endpoint = Recorder(failure, accepted())
    api.post("/v1/uploads").mock(side_effect=endpoint)
    assert client.uploads.upload(csv_file, progress=False).status == "completed"
    assert len(opened) == 2 and len(sleeps) == 1
    first, second = endpoint.requests
    # The second attempt sends the whole file again, under the same Idempotency-Key.
    assert gzip.decompress(second[1]) == csv_file.read_bytes()
    assert first[0]["idempotency-key"] == second[0]["idempotency-key"]


def test_a_refused_file_is_not_retried(
    client: RegistryClient, api: respx.MockRouter, csv_file: Path
) -> None:
    route = api.post("/v1/uploads").mock(
        return_value=problem(
            422,
            "The request is not valid",
            errors=[{"field": "header", "message": "unknown column: colour"}],
        )
    )
    with pytest.raises(UnprocessableEntity) as refused:
        client.uploads.upload(csv_file, progress=False)
    assert refused.value.errors[0].message == "unknown column: colour"
    assert route.call_count == 1


def test_wait_polls_a_job_that_is_not_finished(
    client: RegistryClient, api: respx.MockRouter, csv_file: Path, sleeps: list[float]
) -> None:
    # An idempotent replay answers with the job as it stands, possibly still running.
    api.post("/v1/uploads").mock(return_value=accepted(status="receiving"))
    polled = api.get("/v1/uploads/0b5d5f7e-4b1e-4f43-9a53-3f1b0f7a8c11").mock(
        side_effect=[
            httpx.Response(200, json=upload_job(status="processing", total_lines=None)),
            httpx.Response(
                200, json=upload_job(status="failed", error="The upload was interrupted")
            ),
        ]
    )
    finished = client.uploads.upload(csv_file, progress=False, poll_interval=2.5)
    assert (finished.status, finished.error) == ("failed", "The upload was interrupted")
    assert polled.call_count == 2 and sleeps == [2.5, 2.5]

    polled.reset()
    assert client.uploads.upload(csv_file, wait=False, progress=False).status == "receiving"
    assert polled.call_count == 0


def test_a_bad_name_or_missing_file_fails_before_sending(
    client: RegistryClient, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/uploads")
    (tmp_path / "records.xlsx").write_bytes(b"PK")
    with pytest.raises(ValueError, match="cannot tell the format"):
        client.uploads.upload(tmp_path / "records.xlsx")
    with pytest.raises(ValueError, match="format must be"):
        client.uploads.upload(tmp_path / "records.xlsx", format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        client.uploads.upload(tmp_path / "missing.csv")
    assert route.call_count == 0


ERRORS = [
    {
        "line": 4,
        "account_ref": "LN-187",
        "errors": [{"field": "delinquent_since", "message": "required when status is dpd_31_60"}],
    },
    {
        "line": 7,
        "account_ref": None,
        "errors": [{"field": "line", "message": "not valid JSON"}],
    },
]
ERROR_BODY = "".join(json.dumps(line) + "\n" for line in ERRORS).encode()


def test_errors_iterates_the_report_as_typed_lines(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.get("/v1/uploads/j-1/errors").respond(
        200, content=ERROR_BODY, headers={"Content-Type": "application/x-ndjson"}
    )
    lines = list(client.uploads.errors("j-1"))
    assert lines == [UploadErrorLine.model_validate(line) for line in ERRORS]
    assert (lines[0].line, lines[0].errors[0].field, lines[1].account_ref) == (
        4,
        "delinquent_since",
        None,
    )
    assert route.calls.last.request.headers["accept"] == "application/x-ndjson"


def test_errors_of_another_members_job_is_not_found(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    api.get("/v1/uploads/j-2/errors").mock(return_value=problem(404, "Not found"))
    with pytest.raises(NotFound):
        list(client.uploads.errors("j-2"))


def test_get_and_list(client: RegistryClient, api: respx.MockRouter) -> None:
    api.get("/v1/uploads/j-1").respond(json=upload_job(id="j-1"))
    listing = api.get("/v1/uploads").mock(
        side_effect=[
            httpx.Response(200, json={"data": [upload_job(id="j-3")], "next_cursor": "c2"}),
            httpx.Response(200, json={"data": [upload_job(id="j-2")], "next_cursor": None}),
        ]
    )
    assert client.uploads.get("j-1").id == "j-1"
    assert [j.id for j in client.uploads.list(page_size=1)] == ["j-3", "j-2"]
    assert listing.calls.last.request.url.params["cursor"] == "c2"


@pytest.mark.asyncio
async def test_async_upload_retries_and_reads_errors(
    api: respx.MockRouter, csv_file: Path, sleeps: list[float]
) -> None:
    endpoint = Recorder(problem(502, "Bad gateway"), accepted())
    api.post("/v1/uploads").mock(side_effect=endpoint)
    api.get("/v1/uploads/j-1/errors").respond(200, content=ERROR_BODY)
    async with async_client() as client:
        finished = await client.uploads.upload(csv_file, progress=False)
        lines = [line async for line in client.uploads.errors("j-1")]
    assert finished.status == "completed" and len(sleeps) == 1
    assert [gzip.decompress(body) for _, body in endpoint.requests] == [csv_file.read_bytes()] * 2  # noqa: ASYNC240
    assert [line.line for line in lines] == [4, 7]


def test_progress_counts_the_file_once_per_attempt(
    client: RegistryClient,
    api: respx.MockRouter,
    csv_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[tuple[str, int]] = []

    class Hook(ProgressHook):
        def advance(self, done: int) -> None:
            events.append(("advance", done))

        def restart(self) -> None:
            events.append(("restart", 0))

    @contextmanager
    def recording_bar(description: str, total: int, enabled: bool) -> Iterator[ProgressHook]:
        events.append((description, total))
        yield Hook()

    monkeypatch.setattr(uploads_module, "progress_bar", recording_bar)
    api.post("/v1/uploads").mock(side_effect=Recorder(problem(500, "Oops"), accepted()))
    client.uploads.upload(csv_file)
    size = csv_file.stat().st_size
    assert events[0] == ("uploading november.csv", size)
    attempts = [i for i, (name, _) in enumerate(events) if name == "restart"]
    assert len(attempts) == 2
    first = events[attempts[0] + 1 : attempts[1]]
    second = events[attempts[1] + 1 :]
    assert sum(n for _, n in first) == sum(n for _, n in second) == size


def test_without_rich_or_a_terminal_there_is_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar("x", 10, enabled=True) as hook:
        assert type(hook).__name__ == "_RichHook"
    monkeypatch.setitem(sys.modules, "rich.progress", None)  # as if rich were not installed
    with progress_bar("x", 10, enabled=True) as hook:
        assert type(hook) is ProgressHook
        hook.advance(5)
        hook.restart()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with progress_bar("x", 10, enabled=True) as hook:
        assert type(hook) is ProgressHook
