"""`client.uploads`: send a whole file of records in one streamed request, follow the job,
read its rejected lines.

The file is read in slices and, unless it is already `.gz`, gzipped on the fly, so it is
never held whole in memory; a retried attempt opens the file again from the start.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Unpack

import httpx

from registry_client._base_client import CallOptions, Flow, RequestOptions, Sleep, path_segment
from registry_client._progress import ProgressHook, progress_bar
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.types.records import RecordItem
from registry_client.types.uploads import UploadErrorLine, UploadJob

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient

FileFormat = Literal["csv", "ndjson"]
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
SUFFIX_FORMATS: dict[str, FileFormat] = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
READ_BYTES = 256 * 1024
DEFAULT_POLL_INTERVAL = 1.0

JobPages = TypeVar("JobPages", SyncCursorPaginator[UploadJob], AsyncCursorPaginator[UploadJob])
RECORD_FIELDS = frozenset(RecordItem.model_fields)


def unknown_columns(
    path: str | os.PathLike[str], file_format: FileFormat | None = None
) -> list[str]:
    """The columns (CSV header names, or NDJSON keys on any line) of a record file that are
    not record fields, sorted: what `upload(..., drop_unknown_columns=True)` leaves out.
    An NDJSON file is read whole for this; a CSV file only to its header."""
    source = UploadSource.of(path, file_format, compress=False)
    unknown: set[str] = set()
    with source.open_text() as handle:
        if source.file_format == "csv":
            header = next(csv.reader(handle), [])
            unknown.update(name for name in header if name not in RECORD_FIELDS)
        else:
            for line in handle:
                try:
                    fields = json.loads(line) if line.strip() else {}
                except json.JSONDecodeError:
                    continue  # the registry reports the line; nothing to drop from it
                if isinstance(fields, dict):
                    unknown.update(name for name in fields if name not in RECORD_FIELDS)
    return sorted(unknown)


def _kept_lines(source: UploadSource, drop: frozenset[str]) -> Iterator[str]:
    """The file's lines without the `drop` columns, one output line per input line, so that
    the registry's line numbers still name lines of the file as it is on disk."""
    with source.open_text() as handle:
        if source.file_format == "csv":
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                return
            keep = [i for i, name in enumerate(header) if name not in drop]
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            for row in _with_header(header, reader):
                writer.writerow([row[i] for i in keep if i < len(row)] + row[len(header) :])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            return
        for line in handle:
            try:
                fields = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                fields = None
            if not isinstance(fields, dict):
                yield line if line.endswith("\n") else line + "\n"  # the registry judges it
                continue
            kept = {name: value for name, value in fields.items() if name not in drop}
            yield json.dumps(kept, ensure_ascii=False) + "\n"


def _with_header(header: list[str], rows: Iterator[list[str]]) -> Iterator[list[str]]:
    yield header
    yield from rows


@dataclass(frozen=True, slots=True)
class UploadSource:
    """A file to upload: where it is, what it holds, and how it goes on the wire."""

    path: Path
    file_format: FileFormat
    size: int
    gzipped: bool  # already gzip on disk: sent as it is (unless columns are dropped)
    compress: bool  # gzip what is sent on the fly
    drop: frozenset[str] = frozenset()  # columns to leave out (the file is then re-encoded)

    @classmethod
    def of(
        cls, path: str | os.PathLike[str], file_format: FileFormat | None, compress: bool
    ) -> UploadSource:
        source = Path(path)
        suffixes = [suffix.lower() for suffix in source.suffixes]
        gzipped = bool(suffixes) and suffixes[-1] == ".gz"
        if file_format is None:
            data_suffix = suffixes[-2 if gzipped else -1] if len(suffixes) > gzipped else ""
            if data_suffix not in SUFFIX_FORMATS:
                raise ValueError(
                    f"{source}: cannot tell the format from the name: use .csv, .ndjson or "
                    ".jsonl (optionally .gz), or pass format='csv' or 'ndjson'"
                )
            file_format = SUFFIX_FORMATS[data_suffix]
        elif file_format not in MEDIA_TYPES:
            raise ValueError(f"format must be 'csv' or 'ndjson', not {file_format!r}")
        # Checked now, so that a missing file fails before anything is sent.
        size = source.stat().st_size
        return cls(source, file_format, size, gzipped, compress and not gzipped)

    def open_text(self) -> io.TextIOBase:
        if self.gzipped:
            return gzip.open(self.path, "rt", encoding="utf-8-sig", newline="")  # type: ignore[return-value]
        return self.path.open("r", encoding="utf-8-sig", newline="")  # type: ignore[return-value]

    def dropping(self, columns: Collection[str]) -> UploadSource:
        """The same file with `columns` left out on the way; gzipped on the fly unless
        compression was turned off."""
        if not columns:
            return self
        compress = self.compress or self.gzipped
        return UploadSource(
            self.path, self.file_format, self.size, self.gzipped, compress, frozenset(columns)
        )

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": MEDIA_TYPES[self.file_format]}
        if self.gzipped or self.compress:
            headers["Content-Encoding"] = "gzip"
        return headers

    def chunks(self, progress: ProgressHook) -> Iterator[bytes]:
        """The body from the first byte of the file; never an empty chunk."""
        progress.restart()
        compressor = zlib.compressobj(wbits=31) if self.compress else None  # 31: gzip framing
        if self.drop:
            yield from self._filtered_chunks(progress, compressor)
            return
        with self.path.open("rb") as handle:
            while block := handle.read(READ_BYTES):
                progress.advance(len(block))
                if compressor is not None:
                    block = compressor.compress(block)
                if block:
                    yield block
        if compressor is not None:
            yield compressor.flush()

    def _filtered_chunks(self, progress: ProgressHook, compressor: Any) -> Iterator[bytes]:
        pending: list[bytes] = []
        size = 0
        for line in _kept_lines(self, self.drop):
            encoded = line.encode()
            pending.append(encoded)
            size += len(encoded)
            if size >= READ_BYTES:
                progress.advance(size)
                block = b"".join(pending)
                pending, size = [], 0
                if compressor is not None:
                    block = compressor.compress(block)
                if block:
                    yield block
        block = b"".join(pending)
        progress.advance(size)
        if compressor is not None:
            block = compressor.compress(block) + compressor.flush()
        if block:
            yield block


class _UploadsBase(Generic[JobPages]):
    _pages: type[JobPages]

    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client

    def _upload_flow(
        self, source: UploadSource, progress: ProgressHook, wait: bool, poll_interval: float
    ) -> Flow[UploadJob]:
        response = yield from self._client._request_flow(
            RequestOptions(
                "POST",
                "/v1/uploads",
                headers=source.headers,
                content=lambda: source.chunks(progress),
            )
        )
        job = UploadJob.model_validate_json(response.content)
        # The registry answers once it has applied the whole body, so the job is normally
        # finished already; an idempotent replay answers with the job as it stands.
        while wait and not job.finished:
            yield Sleep(poll_interval)
            job = yield from self._get_flow(job.id)
        return job

    def _get_flow(self, job_id: str) -> Flow[UploadJob]:
        return self._client._model_flow(UploadJob, "GET", f"/v1/uploads/{path_segment(job_id)}")

    def _errors_flow(self, job_id: str) -> Flow[httpx.Response]:
        return self._client._request_flow(
            RequestOptions(
                "GET",
                f"/v1/uploads/{path_segment(job_id)}/errors",
                headers={"Accept": "application/x-ndjson"},
                stream=True,
            )
        )

    def list(self, *, page_size: int | None = None, **options: Unpack[CallOptions]) -> JobPages:
        """The member's own uploads, newest first, page after page as the iteration needs."""
        return self._pages(
            self._client, "/v1/uploads", UploadJob, {"limit": page_size}, options=options
        )


def _source(
    path: str | os.PathLike[str], file_format: FileFormat | None, compress: bool, drop: bool
) -> UploadSource:
    source = UploadSource.of(path, file_format, compress)
    return source.dropping(unknown_columns(path, source.file_format)) if drop else source


def _error_line(line: str) -> UploadErrorLine | None:
    return UploadErrorLine.model_validate_json(line) if line.strip() else None


class Uploads(_UploadsBase[SyncCursorPaginator[UploadJob]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[UploadJob]

    def upload(
        self,
        path: str | os.PathLike[str],
        *,
        format: FileFormat | None = None,
        wait: bool = True,
        progress: bool = True,
        compress: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        drop_unknown_columns: bool = False,
        **options: Unpack[CallOptions],
    ) -> UploadJob:
        """Upload a file of record items: CSV (a header row of item fields) or NDJSON.

        The format comes from the name (`.csv`, `.ndjson`, `.jsonl`, each optionally `.gz`)
        unless `format` is given. The file is streamed, gzipped on the fly unless it is
        already `.gz` or `compress` is False. `progress` draws a bar on stderr when rich is
        installed and stderr is a terminal. With `wait` the job is returned finished
        (`completed`, or `failed` with `error`); each line's outcome is in its counts and
        the rejected lines in `errors(job.id)`.

        The registry refuses a file with columns that are not record fields; with
        `drop_unknown_columns` they are left out on the way (`unknown_columns(path)` names
        them), each line kept on its own line so the error report's numbers still match.
        """
        source = _source(path, format, compress, drop_unknown_columns)
        with progress_bar(f"uploading {source.path.name}", source.size, progress) as hook:
            return self._client._run(self._upload_flow(source, hook, wait, poll_interval), options)

    def get(self, job_id: str, **options: Unpack[CallOptions]) -> UploadJob:
        """One of the member's uploads: status, progress and counts."""
        return self._client._run(self._get_flow(job_id), options)

    def errors(self, job_id: str, **options: Unpack[CallOptions]) -> Iterator[UploadErrorLine]:
        """The rejected lines of an upload, in line order, read as they arrive (the request
        is sent when the iteration starts)."""
        response = self._client._run(self._errors_flow(job_id), options)
        try:
            for line in response.iter_lines():
                if (error := _error_line(line)) is not None:
                    yield error
        finally:
            response.close()


class AsyncUploads(_UploadsBase[AsyncCursorPaginator[UploadJob]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[UploadJob]

    async def upload(
        self,
        path: str | os.PathLike[str],
        *,
        format: FileFormat | None = None,
        wait: bool = True,
        progress: bool = True,
        compress: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        drop_unknown_columns: bool = False,
        **options: Unpack[CallOptions],
    ) -> UploadJob:
        """See `Uploads.upload`; the file is read in a worker thread."""
        source = _source(path, format, compress, drop_unknown_columns)
        with progress_bar(f"uploading {source.path.name}", source.size, progress) as hook:
            return await self._client._run(
                self._upload_flow(source, hook, wait, poll_interval), options
            )

    async def get(self, job_id: str, **options: Unpack[CallOptions]) -> UploadJob:
        """See `Uploads.get`."""
        return await self._client._run(self._get_flow(job_id), options)

    async def errors(
        self, job_id: str, **options: Unpack[CallOptions]
    ) -> AsyncIterator[UploadErrorLine]:
        """See `Uploads.errors`: `async for line in client.uploads.errors(job_id)`."""
        response = await self._client._run(self._errors_flow(job_id), options)
        try:
            async for line in response.aiter_lines():
                if (error := _error_line(line)) is not None:
                    yield error
        finally:
            await response.aclose()
