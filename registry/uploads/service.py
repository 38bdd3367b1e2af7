"""Rules of uploads: a member's file is read as it arrives, each line validated exactly as
an item of POST /v1/records, valid lines COPYed into staging and applied by the records
domain's own write path, one transaction per chunk (records, events, rejected lines and
the job's progress commit together). A job left unfinished by a dead process is failed at
the next start, with how far it got.

Lines apply in file order: an account_ref that repeats within a file closes the current
chunk first, so the later line is applied after the earlier one, as if the two had been
sent one after the other."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
import orjson

from registry.audit import auditor
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor
from registry.context import MemberContext
from registry.core.db import Tx, held
from registry.core.errors import BadRequest, FieldError, Invalid, NotFound, UnsupportedMediaType
from registry.core.metrics import UPLOAD_LINES, count
from registry.core.pagination import Page, created_cursor, decode_created_cursor
from registry.core.tenancy import Tenancy
from registry.idempotency import service as idempotency
from registry.idempotency.service import IdempotencyKey
from registry.records import service as records_service
from registry.records import subject_types
from registry.records.schemas import ItemError
from registry.records.subject_types import SubjectClaim
from registry.records.validation import validate_item
from registry.scorecards import service as scorecards
from registry.uploads import line_digests, repository
from registry.uploads.limits import (
    LimitExceeded,
    LineTally,
    Pacer,
    UploadLimits,
    omitted_notice,
    stored_reasons,
    stored_ref,
)
from registry.uploads.lines import (
    BINARY_MEDIA_TYPE,
    MAX_LINE_BYTES,
    MEDIA_TYPES,
    BodyError,
    Format,
    HeaderError,
    Interrupted,
    csv_header,
    csv_item,
    inflate,
    is_blank,
    ndjson_item,
    numbered_lines,
)
from registry.uploads.repository import JobRow
from registry.uploads.schemas import UploadJobOut

logger = logging.getLogger(__name__)

ROUTE = "POST /v1/uploads"
CHUNK_LINES = 5000
WRITE_AHEAD = 2
# How long a batch waits for a pooled connection to look its lines up (registry/uploads/line_digests.py)
# before it reads them all instead: the shortcut never waits on a busy pool.
HELD_LOOKUP_WAIT = 0.05
ERROR_PAGE = 1000

Batches = AsyncIterator[list[tuple[int, bytes | None]]]


def upload_format(
    content_type: str | None, content_encoding: str | None, declared: Format | None = None
) -> tuple[Format, bool]:
    """The file's format and whether it is gzipped. The media type says the format; a body sent
    as `application/octet-stream` (what client generators send for a binary body) says it
    with `declared`, the `format` query parameter."""
    media = (content_type or "").split(";")[0].strip().lower()
    fmt = declared if media == BINARY_MEDIA_TYPE else MEDIA_TYPES.get(media)
    if fmt is None:
        raise UnsupportedMediaType(
            "Send the file as text/csv (a header row of item fields) or application/x-ndjson (one item per line), "
            "or as application/octet-stream with ?format=csv or ?format=ndjson",
            errors=[FieldError(field="Content-Type", message=f"unsupported media type: {media or 'none'}")],
        )
    if declared is not None and declared is not fmt:
        raise UnsupportedMediaType(
            f"The media type says {fmt.value}, the format parameter {declared.value}",
            errors=[FieldError(field="format", message=f"does not match the media type {media}")],
        )
    encoding = (content_encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise UnsupportedMediaType(
            "The body may be sent as is or gzip-compressed",
            errors=[FieldError(field="Content-Encoding", message=f"unsupported encoding: {encoding}")],
        )
    return fmt, encoding != "identity"


@dataclass
class _Chunk:
    staged: list[tuple[Any, ...]] = field(default_factory=list)  # one row per valid line
    rejected: list[tuple[int, str | None, list[dict[str, str]]]] = field(default_factory=list)  # those stored
    rejected_lines: int = 0  # all of them, stored or not
    refs: set[str] = field(default_factory=set)
    # Beside each staged row: its line number and what it says of its borrower and parties.
    lines: list[int] = field(default_factory=list)
    claims: list[list[SubjectClaim]] = field(default_factory=list)
    unchanged: int = 0  # lines known by their digest (registry/uploads/line_digests.py), never staged


@dataclass(slots=True)
class _Line:
    """One physical line of a batch, decoded: `raw` and `errors` as csv_item/ndjson_item give
    them, and the account and digest it is looked up by (None when it cannot be held)."""

    number: int
    blank: bool = False
    too_long: bool = False
    raw: Any = None
    errors: list[ItemError] | None = None
    ref: str | None = None
    digest: bytes = b""


class _Loader:
    """Validates lines into chunks and hands them to one writer task, which applies them in
    order while the next ones are validated: the CPU work of validation overlaps the
    database's work. Up to WRITE_AHEAD chunks wait for the writer, so neither side idles
    while the other has a slow chunk."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        pool: asyncpg.Pool,
        job_id: uuid.UUID,
        tenancy: Tenancy,
        head: _Head,
        server_key: bytes,
        today: date,
        limits: UploadLimits,
    ) -> None:
        self.conn = conn
        self.pool = pool
        self.job_id = job_id
        self.tenancy = tenancy
        self.columns = head.columns
        self.pacer = head.pacer
        self.tally = head.tally
        self.server_key = server_key
        self.line_key = line_digests.line_key(server_key, head.columns)
        self.today = today
        self.max_stored_errors = limits.max_stored_errors
        self.stored_errors = 0
        self.received = 0
        self.chunk = _Chunk()
        self.pending: asyncio.Queue[tuple[_Chunk, int, str] | None] = asyncio.Queue(maxsize=WRITE_AHEAD)
        self.uncommitted: deque[_Chunk] = deque()  # handed to the writer, in order, until each commits
        self.writer: asyncio.Task[None] | None = None

    def _reject(self, number: int, account_ref: Any, errors: list[ItemError]) -> None:
        """Count the line rejected; store what may be stored of it while the cap allows."""
        self.tally.bad_line(number)
        self._store_rejection(self.chunk, number, account_ref, errors)

    def _store_rejection(self, chunk: _Chunk, number: int, account_ref: Any, errors: list[ItemError]) -> None:
        chunk.rejected_lines += 1
        if self.stored_errors < self.max_stored_errors:
            chunk.rejected.append((number, stored_ref(account_ref), stored_reasons(errors)))
        elif self.stored_errors == self.max_stored_errors:
            chunk.rejected.append((number, None, omitted_notice(self.max_stored_errors)))
        else:
            return
        self.stored_errors += 1

    async def _refuse_contradictions(self, chunk: _Chunk) -> None:
        """Reject the staged lines whose borrower or party contradicts the type held for its token
        (registry/records/subject_types.py), in the chunk's transaction, before they are staged."""
        refused = await subject_types.contradictions(self.conn, self.tenancy, chunk.claims, self.today)
        if not refused:
            return
        for position, errors in sorted(refused.items()):
            self._store_rejection(chunk, chunk.lines[position], chunk.claims[position][0].account_ref, errors)
        chunk.staged = [row for position, row in enumerate(chunk.staged) if position not in refused]

    def _decode(self, batch: list[tuple[int, bytes | None]]) -> list[_Line]:
        columns, key = self.columns, self.line_key
        decoded = []
        for number, line in batch:
            if line is None:
                decoded.append(_Line(number, too_long=True))
            # Any byte above the space is not whitespace: most lines are known non-blank at once.
            elif not (line and line[0] > 32) and is_blank(line):
                decoded.append(_Line(number, blank=True))
            else:
                raw, errors = csv_item(columns, line) if columns is not None else ndjson_item(line)
                ref = line_digests.lookup_ref(raw) if errors is None else None
                decoded.append(
                    _Line(number, raw=raw, errors=errors, ref=ref, digest=line_digests.line_digest(key, line))
                )
        return decoded

    async def _held(self, lines: list[_Line]) -> set[int]:
        """The lines (by position in `lines`) that the member's records hold byte for byte,
        less those for an account that an uncommitted chunk holds: the lookup cannot see what
        those will write. Looked up on a connection of its own; when the pool has none free
        at once, none."""
        asked = [position for position, line in enumerate(lines) if line.ref is not None]
        if not asked:
            return set()
        # Read before the lookup: a chunk that commits while it runs may be unseen by it.
        waiting = [self.chunk, *self.uncommitted]
        try:
            async with self.pool.acquire(timeout=HELD_LOOKUP_WAIT) as conn, conn.transaction():
                await self.tenancy.enter(conn)
                found = await repository.held_lines(
                    conn, self.tenancy.member, [lines[p].ref for p in asked], [lines[p].digest for p in asked]
                )
        except TimeoutError:
            return set()
        held_positions = {asked[n - 1] for n in found}
        return {p for p in held_positions if not any(lines[p].ref in chunk.refs for chunk in waiting)}

    async def feed(self, batch: list[tuple[int, bytes | None]]) -> None:
        server_key, today, pacer, tally = self.server_key, self.today, self.pacer, self.tally
        judged_from = tally.after
        lines = self._decode(batch)
        known = await self._held(lines)
        # Accounts of the lines staged since the lookup: a known line for one of them follows
        # a line the lookup did not see, and is read like any other.
        touched: set[str] = set()
        for position, line in enumerate(lines):
            number, raw, errors = line.number, line.raw, line.errors
            # Time, not lines kept, decides when to let the writer's round trips and other
            # requests go out: blank and rejected lines are work too.
            if pacer.due():
                await pacer.rest()
            if line.blank:
                tally.bad_line(number)
                continue
            self.received += 1
            if line.too_long:
                self._reject(number, None, [ItemError(field="line", message=f"longer than {MAX_LINE_BYTES} bytes")])
            elif position in known and line.ref not in touched:
                self.chunk.unchanged += 1
            elif errors is None:
                checked = validate_item(number, raw, server_key, today)
                if isinstance(checked, list):
                    errors = checked
                else:
                    ref = checked.item.account_ref
                    if ref in self.chunk.refs:
                        await self.flush()
                    chunk = self.chunk
                    chunk.staged.append(repository.staging_row(checked, line.digest))
                    chunk.refs.add(ref)
                    touched.add(ref)
                    chunk.lines.append(number)
                    chunk.claims.append(subject_types.claims_of(checked, server_key))
            if errors is not None:
                self._reject(number, raw.get("account_ref") if isinstance(raw, dict) else None, errors)
            if number == judged_from:
                tally.check(number)
            chunk = self.chunk
            if len(chunk.staged) + chunk.rejected_lines + chunk.unchanged >= CHUNK_LINES:
                await self.flush()

    async def flush(self, status: str = "receiving") -> None:
        """Queue the current chunk for the writer; waits while WRITE_AHEAD chunks are queued,
        and raises the writer's error if it has stopped."""
        chunk, self.chunk = self.chunk, _Chunk()
        self.uncommitted.append(chunk)
        await self._hand_over((chunk, self.received, status))

    async def drain(self) -> None:
        """Wait until every queued chunk has committed."""
        if self.writer is not None:
            await self._hand_over(None)
            writer, self.writer = self.writer, None
            await writer

    async def abandon(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def _hand_over(self, work: tuple[_Chunk, int, str] | None) -> None:
        if self.writer is None:
            self.writer = asyncio.create_task(self._write_all())
        put = asyncio.ensure_future(self.pending.put(work))
        await asyncio.wait((put, self.writer), return_when=asyncio.FIRST_COMPLETED)
        if self.writer.done():  # it failed (with the queue full, the put would wait forever)
            put.cancel()
            self.writer.result()  # raises what stopped it

    async def _write_all(self) -> None:
        while (work := await self.pending.get()) is not None:
            await self._write(*work)

    async def _write(self, chunk: _Chunk, received: int, status: str) -> None:
        counts: Counter[str] = Counter()
        async with self.conn.transaction():
            await self.tenancy.enter(self.conn)
            if chunk.staged:
                await self._refuse_contradictions(chunk)
            if chunk.staged:
                await repository.stage(self.conn, chunk.staged)
                counts.update(
                    await records_service.apply_counted(
                        self.conn,
                        self.tenancy,
                        len(chunk.staged),
                        functools.partial(repository.upsert_staged, self.conn, self.tenancy.member),
                        today=self.today,
                    )
                )
            if chunk.rejected:
                await repository.add_errors(self.conn, self.job_id, chunk.rejected)
            if chunk.rejected_lines:
                counts["rejected"] = chunk.rejected_lines
            counts["unchanged"] += chunk.unchanged
            await repository.record_progress(self.conn, self.job_id, received=received, counts=counts, status=status)
        self.uncommitted.popleft()
        count(UPLOAD_LINES, counts.elements())  # after the chunk's commit


@dataclass
class _Head:
    """What must be read before a job exists: the CSV columns and the first data lines, with
    the pace and the blank lines counted so far."""

    columns: list[str] | None
    batches: list[list[tuple[int, bytes | None]]]
    pacer: Pacer
    tally: LineTally


async def _read_head(lines: Batches, fmt: Format, limits: UploadLimits) -> _Head:
    columns: list[str] | None = None
    header_seen = fmt is not Format.csv
    pacer, tally = Pacer(), LineTally(limits)
    try:
        async for batch in lines:
            for position, (number, line) in enumerate(batch):
                if pacer.due():
                    await pacer.rest()
                if line is not None and is_blank(line):
                    tally.bad_line(number)
                    continue
                if header_seen:
                    return _Head(columns, [batch[position:]], pacer, tally)
                if line is None:
                    raise HeaderError("The CSV header line is too long", ["header: too long"])
                columns = csv_header(line)
                header_seen = True
    except HeaderError as exc:
        raise Invalid(str(exc), errors=[FieldError(field="header", message=p) for p in exc.problems]) from None
    except BodyError as exc:
        raise Invalid(f"The body cannot be read: {exc}", errors=[FieldError(field="body", message=str(exc))]) from None
    except LimitExceeded as exc:
        raise Invalid(
            f"The file is refused before its first record: {exc}", errors=[FieldError(field="body", message=str(exc))]
        ) from None
    except Interrupted as exc:
        raise BadRequest(f"The upload was interrupted before its first line: {exc}") from None
    raise Invalid("The file holds no records", errors=[FieldError(field="body", message="no data lines")])


def _described(job: JobRow, **extra: Any) -> tuple[str, dict[str, Any]]:
    """The audit resource and details of a job: its outcome counts, never a line's content."""
    out = UploadJobOut.of(job)
    summary = {k: getattr(out, k) for k in ("created", "updated", "unchanged", "stale", "rejected")}
    details = {
        "status": out.status.value,
        "lines": out.received_lines,
        **summary,
        **({"error": out.error} if out.error else {}),
        **extra,
    }
    return f"upload:{out.id}", details


async def _end(
    conn: asyncpg.Connection,
    loader: _Loader,
    ctx: MemberContext,
    key: IdempotencyKey | None,
    *,
    error: str | None,
    interrupted: bool,
    outcome: int = 202,
) -> JobRow:
    """Complete or fail the job; the request's audit row (its only one) commits with it."""
    async with conn.transaction():
        await ctx.tenancy.enter(conn)
        job = await repository.finish(
            conn, loader.job_id, status="failed" if error else "completed", error=error, received=loader.received
        )
        if interrupted:
            await idempotency.release(Tx(conn), key)
        if not ctx.audit.recorded:
            ctx.audit.resource, ctx.audit.details = _described(job)
            await ctx.audit.record(conn, outcome)
    return job


async def upload(
    ctx: MemberContext,
    body: AsyncIterator[bytes],
    *,
    content_type: str | None,
    content_encoding: str | None,
    idempotency_key: str | None,
    declared_format: Format | None = None,
) -> UploadJobOut:
    """Load the whole body and return the finished job (completed, or failed with its
    reason). Problems visible before any line is applied are 4xx and leave no job."""
    fmt, gzip = upload_format(content_type, content_encoding, declared_format)
    limits = UploadLimits.of(ctx.settings)
    lines = numbered_lines(inflate(body, gzip, limits.max_decompressed_bytes))
    key = ctx.idempotency(idempotency_key)
    async with held(ctx.runtime.db.pool) as conn:
        # This connection commits chunk by chunk; each transaction enters the member's tenancy.
        async with conn.transaction():
            await ctx.tenancy.enter(conn)
            tx = Tx(conn)
            claim, replay = await idempotency.claim(tx, key, {"format": fmt.value, "gzip": gzip})
            if replay is not None:
                replayed = await repository.get_own(conn, ctx.tenant, uuid.UUID(replay["job_id"]))
                assert replayed is not None
                ctx.audit.resource, ctx.audit.details = _described(replayed, idempotent_replay=True)
                await ctx.audit.record(conn, 202)
                return UploadJobOut.of(replayed)
            head = await _read_head(lines, fmt, limits)
            job_id = uuid.uuid4()
            # Locked before the job row is visible to anyone, held until the job ends.
            await repository.lock_job(conn, job_id)
            await repository.create_job(
                conn,
                ctx.tenant,
                job_id,
                client_id=ctx.principal.client_id,
                request_id=ctx.request_id,
                idempotency_key=idempotency_key,
                format=fmt.value,
                gzip=gzip,
            )
            await idempotency.complete(tx, claim, 202, {"job_id": str(job_id)})
            await repository.ensure_staging(conn)
        ctx.audit.resource = f"upload:{job_id}"
        loader = _Loader(
            conn, ctx.runtime.db.pool, job_id, ctx.tenancy, head, ctx.runtime.keys.server_key, ctx.today, limits
        )
        error: str | None = None
        interrupted = False
        try:
            try:
                for batch in head.batches:
                    await loader.feed(batch)
                async for batch in lines:
                    await loader.feed(batch)
                await loader.flush("processing")
            except BodyError as exc:
                error = f"The file could not be read after line {loader.received} of data: {exc}"
            except LimitExceeded as exc:
                error = f"{exc}. Lines applied before it stay applied"
            except Interrupted as exc:
                error, interrupted = f"The upload was interrupted: {exc}", True
            await loader.drain()
            job = await _end(conn, loader, ctx, key, error=error, interrupted=interrupted)
        except Exception:
            await loader.abandon()
            try:
                await _end(
                    conn,
                    loader,
                    ctx,
                    key,
                    error="The service failed while loading this file; upload it again",
                    interrupted=True,
                    outcome=500,
                )  # the job's end is the request's audit row: the error handler adds none
            except Exception:
                logger.exception("could not mark upload %s failed; the next start-up will", job_id)
            raise
        except BaseException:
            await loader.abandon()  # cancelled: the next start-up fails the job
            raise
        finally:
            with contextlib.suppress(Exception):  # the pool's reset releases every advisory lock of the connection
                await repository.unlock_job(conn, job_id)
    # The chunks have committed: the member's figures are compared with the association's limits.
    scorecards.check_in_background(ctx.runtime.db, ctx.now, ctx.tenant.member_id)
    return UploadJobOut.of(job)


async def recover_abandoned(pool: asyncpg.Pool) -> int:
    """Fail every unfinished job whose owner is gone (its advisory lock is free), saying how
    far it got; a job still running in another worker keeps its lock and is left alone."""
    failed = 0
    async with pool.acquire() as conn:
        for job_id in await repository.unfinished_jobs(conn):
            async with conn.transaction():
                if not await repository.try_lock_job_for_transaction(conn, job_id):
                    continue
                progress = await repository.lock_unfinished(conn, job_id)
                if progress is None:
                    continue
                error = (
                    f"The service stopped while this upload was running: {progress.processed_lines} of the "
                    f"{progress.received_lines} lines received were applied. Upload the file again to finish; "
                    "lines already applied come back unchanged."
                )
                job = await repository.finish(conn, job_id, status="failed", error=error, received=None)
                if job.idempotency_key is not None:
                    await idempotency.release(Tx(conn), IdempotencyKey(job.member_id, ROUTE, job.idempotency_key))
                resource, details = _described(job, recovered=True)
                await auditor.record_event(
                    conn,
                    AuditAction.RECORDS_UPLOAD,
                    actor=Actor(job.member_id, job.client_id),
                    outcome=500,
                    resource=resource,
                    details=details,
                    request_id=job.request_id,
                )
                failed += 1
    if failed:
        logger.warning("failed %d upload job(s) left unfinished by a stopped process", failed)
    return failed


async def get_job(ctx: MemberContext, job_id: uuid.UUID) -> UploadJobOut:
    ctx.audit.resource = f"upload:{job_id}"
    row = await repository.get_own(ctx.conn, ctx.tenant, job_id)
    if row is None:
        raise NotFound("No upload with that id")
    return UploadJobOut.of(row)


async def list_jobs(ctx: MemberContext, *, cursor: str | None, limit: int) -> Page[UploadJobOut]:
    found = await repository.list_own(ctx.conn, ctx.tenant, after=decode_created_cursor(cursor), limit=limit + 1)
    return Page[UploadJobOut].from_rows(found, limit, UploadJobOut.of, created_cursor)


async def error_lines(pool: asyncpg.Pool, tenancy: Tenancy, job_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The job's rejected lines as NDJSON, read from the database a page at a time."""
    after = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            await tenancy.enter(conn)
            page = await repository.errors_page(conn, tenancy.member, job_id, after, ERROR_PAGE)
        if page:
            yield b"".join(
                orjson.dumps({"line": r.line, "account_ref": r.account_ref, "errors": r.errors}) + b"\n" for r in page
            )
        if len(page) < ERROR_PAGE:
            return
        after = page[-1].line
