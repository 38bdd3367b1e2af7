"""`registry-client upload FILE` and `registry-client uploads list|show|errors`: whole files
sent in one streamed request, and the jobs they become."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, cast

import typer

from registry_client._cli_common import (
    EXIT_REJECTED,
    _fail,
    app,
    clean_errors,
    ctx_client,
    err,
    out,
    print_table,
)
from registry_client.resources.uploads import FileFormat, unknown_columns
from registry_client.types.uploads import UploadErrorLine, UploadJob, UploadStatus

uploads_app = typer.Typer(help="Your bulk uploads and their error reports.", no_args_is_help=True)
app.add_typer(uploads_app, name="uploads")

OUTCOMES = ("created", "updated", "unchanged", "stale", "rejected")


def _summary(job: UploadJob) -> str:
    """`accepted` counts the lines the registry took (created, updated or unchanged); a stale
    line (older than what is stored) and a rejected one were not applied."""
    lines = job.total_lines if job.total_lines is not None else job.received_lines
    accepted = job.created + job.updated + job.unchanged
    return (
        f"upload {job.id} {job.status}: {lines} lines, {accepted} accepted "
        f"(created {job.created}, updated {job.updated}, unchanged {job.unchanged}), "
        f"{job.stale} stale, {job.rejected} rejected"
    )


def _write_errors(lines: Iterable[UploadErrorLine], target: Path) -> int:
    written = 0
    with target.open("w", encoding="utf-8") as sink:
        for line in lines:
            sink.write(line.model_dump_json() + "\n")
            written += 1
    return written


@app.command()
@clean_errors
def upload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON of record items (.gz allowed).")],
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the job has finished.")
    ] = True,
    errors_out: Annotated[
        Path | None,
        typer.Option("--errors-out", help="Write the rejected lines (NDJSON) to this file."),
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="csv or ndjson (default: from the file name)."),
    ] = None,
) -> None:
    """Upload a whole file in one streamed request (gzipped on the way); print the job's summary.

    Columns that are not record fields are left out on the way, with a note (as `submit`).
    """
    chosen = cast("FileFormat | None", file_format)
    ignored = unknown_columns(file, chosen)
    if ignored:
        err.print(
            f"note: ignoring columns that are not record fields: {', '.join(ignored)}", markup=False
        )
    with ctx_client(ctx) as client:
        job = client.uploads.upload(
            file, format=chosen, wait=wait, progress=True, drop_unknown_columns=bool(ignored)
        )
        out.print(_summary(job), markup=False, highlight=False)
        if not job.finished:
            err.print(
                f"follow it with: registry-client uploads show {job.id}",
                markup=False,
                highlight=False,
            )
            return
        if job.status == UploadStatus.FAILED:
            _fail(f"upload {job.id} failed: {job.error}")
        if not job.rejected:
            return
        if errors_out is not None:
            _write_errors(client.uploads.errors(job.id), errors_out)
            _fail(f"{job.rejected} lines rejected: see {errors_out}", EXIT_REJECTED)
    _fail(
        f"{job.rejected} lines rejected: registry-client uploads errors {job.id} "
        f"(GET /v1/uploads/{job.id}/errors)",
        EXIT_REJECTED,
    )


@uploads_app.command("list")
@clean_errors
def uploads_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="Stop after this many jobs.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Your uploads, newest first."""
    with ctx_client(ctx) as client:
        listing = iter(client.uploads.list(page_size=min(limit, 100)))
        jobs = [job for _, job in zip(range(limit), listing, strict=False)]
    if as_json:
        for job in jobs:
            out.print(job.model_dump_json(), markup=False, highlight=False)
        return
    print_table(
        ["id", "status", "lines", *OUTCOMES, "created_at"],
        (
            [
                job.id,
                job.status,
                str(job.total_lines if job.total_lines is not None else job.received_lines),
                *(str(getattr(job, name)) for name in OUTCOMES),
                job.created_at.isoformat() if job.created_at else "-",
            ]
            for job in jobs
        ),
        ids=("id",),
    )


@uploads_app.command("show")
@clean_errors
def uploads_show(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The upload's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """One upload: status, progress and counts (and why it failed)."""
    with ctx_client(ctx) as client:
        job = client.uploads.get(job_id)
    if as_json:
        out.print(job.model_dump_json(indent=2), markup=False, highlight=False)
        return
    out.print(_summary(job), markup=False, highlight=False)
    if job.error:
        out.print(f"error: {job.error}", markup=False, highlight=False)


@uploads_app.command("errors")
@clean_errors
def uploads_errors(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The upload's id.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """The rejected lines of an upload, as NDJSON: line number, account_ref, reasons."""
    with ctx_client(ctx) as client:
        if out_file is not None:
            written = _write_errors(client.uploads.errors(job_id), out_file)
            err.print(f"{written} rejected lines written to {out_file}", markup=False)
            return
        for line in client.uploads.errors(job_id):
            out.print(line.model_dump_json(), markup=False, highlight=False)
