"""`registry-client`: the SDK from the shell: hash identities, submit and upload record files,
ask exposure, watch borrowers and read alerts (uploads, watches and alerts are in `_cli_uploads`
and `_cli_monitoring`).

Exit codes: 0 done; 1 an error (one line on stderr, never a traceback); 2 bad
usage; 3 done, but some rows were rejected (written to a file; for `upload`, kept by the
registry unless `--errors-out` is given).
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any

try:
    import typer
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise SystemExit(
        "registry-client: the command line needs the cli extra: pip install 'registry-client[cli]'"
    ) from exc


from registry_client import (  # noqa: F401 - the command modules register their commands
    _cli_admin,
    _cli_monitoring,
    _cli_scorecards,
    _cli_uploads,
    identity,
)
from registry_client._cli_common import (
    EXIT_REJECTED,
    _fail,
    _hashing_key,
    _one_line,
    _settings,
    amount,
    app,
    clean_errors,
    ctx_client,
    err,
    out,
    print_table,
    read_lines,
    records_app,
)
from registry_client._exceptions import RegistryError
from registry_client.types.exposure import Purpose, SubjectExposure
from registry_client.types.records import Outcome, Product, RecordItem, RecordResult, RecordStatus

# --- files ---------------------------------------------------------------------------------


def _open_text(path: Path, mode: str = "r") -> IO[str]:
    # Monthly files are often shipped gzipped; read and write them as they come.
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8", newline="")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8-sig" if mode == "r" else "utf-8", newline="")


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] == ".csv":
        return "csv"
    if suffixes and suffixes[-1] in (".ndjson", ".jsonl", ".json"):
        return "ndjson"
    _fail(
        f"{path}: cannot tell the format from the name: "
        "use .csv, .ndjson or .jsonl (optionally .gz)"
    )


@dataclass
class Row:
    line: int
    fields: dict[str, Any]


def _read_csv(handle: IO[str]) -> tuple[list[str], Iterator[Row]]:
    reader = csv.DictReader(handle)
    if not reader.fieldnames:
        raise ValueError("the CSV file has no header line")
    fieldnames = list(reader.fieldnames)

    def rows() -> Iterator[Row]:
        for fields in reader:
            if None in fields:
                raise ValueError(f"line {reader.line_num}: more cells than header columns")
            yield Row(reader.line_num, fields)

    return fieldnames, rows()


def _read_ndjson(handle: IO[str]) -> Iterator[Row]:
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {line_number}: not valid JSON ({exc.msg})") from None
        if not isinstance(fields, dict):
            raise ValueError(f"line {line_number}: expected a JSON object")
        yield Row(line_number, fields)


def _reject_path(source: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    name = source.name.removesuffix(".gz")
    stem, dot, ext = name.rpartition(".")
    return source.with_name(f"{stem}.rejected.{ext}" if dot else f"{name}.rejected")


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("submitting", total=total)
        yield lambda done: progress.advance(task, done)


# --- token ---------------------------------------------------------------------------------


@app.command()
@clean_errors
def token(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Argument(help="cn_resident_id, cn_uscc, passport or vin.")
    ] = None,
    value: Annotated[
        str | None, typer.Argument(help="The identity; '-' reads one per line from stdin.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Hash each line of this file (one identity a line)."),
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going", help="With a file or '-': print an error row for a bad line and go on."
        ),
    ] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Hash a column of this CSV file.")
    ] = None,
    column: Annotated[
        str | None, typer.Option(help="With --csv: the column holding identities.")
    ] = None,
    kind_option: Annotated[
        str | None,
        typer.Option("--kind", help="With --csv: the kind of every row (else a 'kind' column)."),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="With --csv: the CSV to write.")
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="With --csv: where invalid rows go.")] = None,
) -> None:
    """Print the brs1 token of an identity, of each line of a file or stdin (one token a
    line, in order), or replace a CSV column of identities with tokens."""
    key = _hashing_key(_settings(ctx))
    if csv_file is None:
        if kind is None or (value is None) == (file is None):
            _fail("give KIND and VALUE, KIND --file FILE, KIND - (stdin), or --csv FILE ...")
        if value is not None and value != "-":
            out.print(identity.token(kind, value, key), markup=False, highlight=False)
            return
        bad = _hash_lines(kind, str(file) if file is not None else "-", key, keep_going)
        if bad:
            _fail(f"{bad} lines have invalid identities (error rows above)", EXIT_REJECTED)
        return
    if kind is not None or value is not None or file is not None:
        _fail("give either KIND VALUE, KIND --file FILE or --csv, not several")
    if column is None or out_file is None:
        _fail("--csv needs --column NAME and --out FILE")
    if out_file.resolve() == csv_file.resolve():
        _fail("--out must not be the input file")
    hashed, rejected, reject_file = _hash_csv(csv_file, column, kind_option, out_file, rejects, key)
    out.print(f"hashed {hashed} rows into {out_file}", markup=False, highlight=False)
    if rejected:
        _fail(f"{rejected} rows have invalid identities: see {reject_file}", EXIT_REJECTED)


def _hash_lines(kind: str, source: str, key: bytes, keep_going: bool) -> int:
    """Print one token per line of `source`; a bad line stops with its number, or with
    `keep_going` becomes an error row in its place. Returns the number of bad lines."""
    bad = 0
    for number, text in read_lines(source):
        try:
            out.print(identity.token(kind, text, key), markup=False, highlight=False)
        except identity.InvalidIdentity as exc:
            if not keep_going:
                _fail(f"line {number}: {exc}")
            bad += 1
            out.print(f"error: line {number}: {exc}", markup=False, highlight=False)
    return bad


def _hash_csv(
    source: Path, column: str, kind: str | None, target: Path, rejects: Path | None, key: bytes
) -> tuple[int, int, Path]:
    """Write `target` with `column` replaced by a `subject` token column; invalid rows go apart.

    The identity column (and a `kind` column, when used) is left out of the output so that the
    file can be handed on without raw identities in it.
    """
    reject_file = _reject_path(source, rejects)
    with _open_text(source) as handle:
        fieldnames, rows = _read_csv(handle)
        if column not in fieldnames:
            raise ValueError(f"{source}: no column {column!r} (columns: {', '.join(fieldnames)})")
        if kind is None and "kind" not in fieldnames:
            raise ValueError(f"{source}: no 'kind' column: pass --kind for the whole file")
        dropped = {column} | ({"kind"} if kind is None else set())
        output_fields = [
            "subject" if name == column else name
            for name in fieldnames
            if name == column or name not in dropped
        ]
        hashed, invalid = 0, []
        with _open_text(target, "w") as sink:
            writer = csv.DictWriter(sink, output_fields)
            writer.writeheader()
            for row in rows:
                row_kind = kind or row.fields.get("kind") or ""
                try:
                    subject = identity.token(row_kind, row.fields[column] or "", key)
                except identity.InvalidIdentity as exc:
                    invalid.append({"line": row.line, **row.fields, "errors": str(exc)})
                    continue
                kept = {name: cell for name, cell in row.fields.items() if name not in dropped}
                writer.writerow({**kept, "subject": subject})
                hashed += 1
    if invalid:
        with _open_text(reject_file, "w") as sink:
            writer = csv.DictWriter(sink, ["line", *fieldnames, "errors"])
            writer.writeheader()
            writer.writerows(invalid)
    return hashed, len(invalid), reject_file


# --- submit --------------------------------------------------------------------------------

_RECORD_FIELDS = frozenset(RecordItem.model_fields)


def _load_records(path: Path) -> tuple[list[Row], list[str]]:
    """The rows of a record file, with the columns that are not record fields set aside."""
    file_format = _format_of(path)
    with _open_text(path) as handle:
        rows = list(_read_csv(handle)[1] if file_format == "csv" else _read_ndjson(handle))
    ignored: set[str] = set()
    for row in rows:
        ignored.update(name for name in row.fields if name not in _RECORD_FIELDS)
    return rows, sorted(ignored)


def _as_item(fields: dict[str, Any]) -> dict[str, Any]:
    # An empty CSV cell means "not given", so the registry's default applies.
    return {
        name: value
        for name, value in fields.items()
        if name in _RECORD_FIELDS and value not in ("", None)
    }


def _write_rejects(path: Path, file_format: str, rejected: list[tuple[Row, RecordResult]]) -> None:
    """The rejected rows as they were read, with their line number and the reasons."""
    with _open_text(path, "w") as sink:
        if file_format == "ndjson":
            for row, result in rejected:
                errors = [error.model_dump() for error in result.errors]
                sink.write(
                    json.dumps({"line": row.line, **row.fields, "errors": errors}, default=str)
                    + "\n"
                )
            return
        columns = dict.fromkeys(name for row, _ in rejected for name in row.fields)
        writer = csv.DictWriter(sink, ["line", *columns, "errors"])
        writer.writeheader()
        for row, result in rejected:
            reasons = "; ".join(f"{error.field}: {error.message}" for error in result.errors)
            writer.writerow({"line": row.line, **row.fields, "errors": reasons})


@app.command()
@clean_errors
def submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON of record items (.gz allowed).")],
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go [default: FILE.rejected.EXT].")
    ] = None,
) -> None:
    """Submit a file of records in batches of 1000; print the summary; write rejected rows apart."""
    rows, ignored = _load_records(file)
    if not rows:
        _fail(f"{file}: no records")
    if ignored:
        err.print(
            f"note: ignoring columns that are not record fields: {', '.join(ignored)}", markup=False
        )
    handled = 0

    def advance(count: int) -> None:
        nonlocal handled
        handled += count
        bar(count)

    with ctx_client(ctx) as client, _progress(len(rows)) as bar:
        try:
            result = client.records.submit((_as_item(row.fields) for row in rows), on_batch=advance)
        except RegistryError as exc:
            # Resubmitting is safe: rows already applied come back `unchanged`.
            _fail(
                f"{_one_line(exc)} (after {handled} of {len(rows)} rows were handled; "
                "the file can be resubmitted)"
            )
    summary = result.summary.model_dump()
    out.print(
        ", ".join(f"{name} {count}" for name, count in summary.items()),
        markup=False,
        highlight=False,
    )
    rejected = [
        (row, r)
        for row, r in zip(rows, result.results, strict=True)
        if r.outcome == Outcome.REJECTED
    ]
    if rejected:
        target = _reject_path(file, rejects)
        _write_rejects(target, _format_of(file), rejected)
        _fail(f"{len(rejected)} rows rejected: see {target}", EXIT_REJECTED)


# --- exposure ------------------------------------------------------------------------------


def _amounts(amounts: dict[str, Any]) -> str:
    return ", ".join(f"{currency} {amount}" for currency, amount in sorted(amounts.items())) or "-"


def _exposure_table(result: SubjectExposure) -> Table:
    # One narrow key/value table per subject: a row of fifteen columns does not fit a terminal.
    table = Table(title=result.subject, show_header=False, title_justify="left")
    table.add_column(style="bold", overflow="fold")
    table.add_column(overflow="fold")
    if not result.found:
        table.add_row("found", "no other institution reports this subject")
    else:
        table.add_row(
            "institutions reporting / delinquent",
            f"{result.institutions_reporting} / {result.institutions_delinquent}",
        )
        table.add_row(
            "accounts total / delinquent", f"{result.accounts.total} / {result.accounts.delinquent}"
        )
        table.add_row(
            "worst status",
            f"{result.worst_status or '-'} (24 months: {result.worst_status_24m or '-'})",
        )
        table.add_row("overdue", _amounts(result.overdue_amounts))
        table.add_row("outstanding", _amounts(result.outstanding_amounts))
        table.add_row("latest delinquent since", str(result.latest_delinquent_since or "-"))
        table.add_row(
            "uncollected delinquent accounts", str(result.uncollected_delinquent_accounts)
        )
        table.add_row("disputed", "yes" if result.disputed else "no")
    inquiries = result.hard_inquiries
    table.add_row(
        "hard inquiries 30d / 90d",
        f"{inquiries.last_30d} / {inquiries.last_90d} "
        f"(institutions {inquiries.institutions_30d} / {inquiries.institutions_90d})",
    )
    table.add_row("own accounts / delinquent", f"{result.own.accounts} / {result.own.delinquent}")
    return table


def _subjects(
    ctx: typer.Context, tokens: list[str], file: Path | None, kind: str | None
) -> list[str]:
    """The subjects to ask about: arguments, or the lines of a file or stdin ('-'). With
    `kind` each one is a raw identity, hashed here: it never leaves this machine."""
    if file is not None and tokens:
        _fail("give subjects as arguments or --file, not both")
    if file is not None or tokens == ["-"]:
        lines = list(read_lines(str(file) if file is not None else "-"))
    else:
        lines = list(enumerate(tokens, start=1))
    if not lines:
        _fail("no subjects given")
    if kind is None:
        return [text for _, text in lines]
    key = _hashing_key(_settings(ctx))
    subjects = []
    for number, text in lines:
        try:
            subjects.append(identity.token(kind, text, key))
        except identity.InvalidIdentity as exc:
            where = (
                f"line {number}" if file is not None or tokens == ["-"] else f"argument {number}"
            )
            _fail(f"{where}: {exc}")
    return subjects


@app.command()
@clean_errors
def exposure(
    ctx: typer.Context,
    purpose: Annotated[Purpose, typer.Option(help="Why you ask.")],
    tokens: Annotated[
        list[str] | None,
        typer.Argument(
            help="Subject tokens (64 hex), or raw identities with --kind; '-' reads one per "
            "line from stdin.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Read the subjects from this file, one a line.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="The subjects are raw identities of this kind: hashed here with the hashing "
            "key; only tokens are sent.",
        ),
    ] = None,
    consent_ref: Annotated[
        str | None,
        typer.Option(help="The borrower's authorization; required for loan_application."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Ask what other institutions report about each subject."""
    subjects = _subjects(ctx, tokens or [], file, kind)
    with ctx_client(ctx) as client:
        answer = client.exposure.query(subjects, purpose=purpose, consent_ref=consent_ref)
    if as_json:
        out.print(answer.model_dump_json(indent=2), markup=False, highlight=False)
    else:
        for result in answer.results:
            out.print(_exposure_table(result), crop=False)


@app.command()
@clean_errors
def vehicles(
    ctx: typer.Context,
    tokens: Annotated[
        list[str], typer.Argument(help="Vehicle tokens (vin, 64 hex).", show_default=False)
    ],
    purpose: Annotated[Purpose, typer.Option(help="Why you ask.")],
    consent_ref: Annotated[
        str | None,
        typer.Option(help="The borrower's authorization; required for loan_application."),
    ] = None,
) -> None:
    """Ask whether each vehicle is already pledged at other institutions (JSON)."""
    with ctx_client(ctx) as client:
        answer = client.collateral.exposure(tokens, purpose=purpose, consent_ref=consent_ref)
    out.print(answer.model_dump_json(indent=2), markup=False, highlight=False)


# --- records -------------------------------------------------------------------------------


@records_app.command("list")
@clean_errors
def records_list(
    ctx: typer.Context,
    subject: Annotated[str | None, typer.Option(help="Only this subject token.")] = None,
    status: Annotated[RecordStatus | None, typer.Option(help="Only this status.")] = None,
    product: Annotated[Product | None, typer.Option(help="Only this product.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many records.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List your own live records, every page."""
    with ctx_client(ctx) as client:
        listing = iter(client.records.list(subject=subject, status=status, product=product))
        records = (
            [record for _, record in zip(range(limit), listing, strict=False)]
            if limit
            else list(listing)
        )
    if as_json:
        for record in records:
            out.print(record.model_dump_json(exclude_none=True), markup=False, highlight=False)
        return
    print_table(
        ["id", "account_ref", "product", "status", "overdue", "outstanding", "as_of"],
        (
            [
                record.id,
                record.account_ref,
                record.product or "-",
                record.status or "-",
                amount(record.currency, record.overdue_amount),
                amount(record.currency, record.outstanding_amount),
                record.as_of.isoformat() if record.as_of else "-",
            ]
            for record in records
        ),
        ids=("id", "account_ref"),
    )


def main() -> None:
    """Console-script entry point."""
    app()
