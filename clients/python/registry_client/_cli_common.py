"""What every `registry-client` command shares: the Typer app and its global options, the
consoles, the exit codes, and turning failures into one line on stderr. The command modules
(`cli`, `_cli_uploads`, `_cli_monitoring`) import from here, never from each other."""

from __future__ import annotations

import csv
import functools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, NoReturn, ParamSpec, TypeVar

try:
    import typer
    from rich.console import Console
    from rich.table import Table
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise SystemExit(
        "registry-client: the command line needs the cli extra: pip install 'registry-client[cli]'"
    ) from exc

from pydantic import ValidationError

from registry_client import identity
from registry_client._client import RegistryClient
from registry_client._exceptions import RegistryError
from registry_client._version import __version__

EXIT_ERROR = 1
EXIT_REJECTED = 3

app = typer.Typer(
    name="registry-client",
    help=(
        "Borrower Registry client: hash identities, submit and upload records, query exposure, "
        "watch borrowers and read alerts."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
records_app = typer.Typer(help="The member's own records.", no_args_is_help=True)
app.add_typer(records_app, name="records")
admin_app = typer.Typer(
    help="The association's administration over the API (an admin-scope client).",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Settings:
    """Global options; None means the SDK reads its environment variable."""

    url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    hashing_key: str | None = field(default=None, repr=False)

    def client(self) -> RegistryClient:
        return RegistryClient(self.url, self.client_id, self.client_secret, self.hashing_key)


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], ids: Iterable[str] = ()
) -> None:
    """A table whose `ids` columns (ids, account references, tokens) are never cut: they
    keep their full width, other columns wrap, and a row wider than the terminal wraps
    rather than being cropped."""
    rows = [list(row) for row in rows]
    id_columns = set(ids)
    table = Table()
    for index, header in enumerate(headers):
        if header in id_columns:
            widest = max((len(row[index]) for row in rows), default=0)
            table.add_column(header, overflow="fold", min_width=max(widest, len(header)))
        else:
            table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table, crop=False)


def amount(currency: str | None, value: object) -> str:
    """An amount with its currency for a table; None is `-`."""
    return "-" if value is None else f"{currency or ''} {value}".strip()


def percent(value: float | None) -> str:
    """A rate (a fraction) for a table: 0.314 is `31.4%`; None is `-`."""
    return "-" if value is None else f"{value:.1%}"


def read_lines(source: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line of a file, or of stdin for `-`."""
    handle = sys.stdin if source == "-" else open(source, encoding="utf-8-sig")  # noqa: SIM115
    try:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line.strip()
    finally:
        if handle is not sys.stdin:
            handle.close()


def _fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    err.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()
        )
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) or type(exc).__name__


def clean_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every expected failure into one line on stderr and exit 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (RegistryError, ValueError, OSError, csv.Error) as exc:
            _fail(_one_line(exc))

    return wrapper


def _print_version(value: bool) -> None:
    if value:
        out.print(f"registry-client {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(envvar="REGISTRY_URL", help="Registry base URL.")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(envvar="REGISTRY_CLIENT_ID", help="OAuth client id.")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="REGISTRY_CLIENT_SECRET",
            help="OAuth client secret (prefer the variable).",
            show_default=False,
        ),
    ] = None,
    hashing_key: Annotated[
        str | None,
        typer.Option(
            envvar="REGISTRY_HASHING_KEY",
            help="K_assoc, 64 hex (prefer the variable).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = Settings(url, client_id, client_secret, hashing_key)


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj if isinstance(ctx.obj, Settings) else Settings()


def _hashing_key(settings: Settings) -> bytes:
    if not settings.hashing_key:
        _fail("no hashing key: set REGISTRY_HASHING_KEY or pass --hashing-key")
    return identity.parse_key(settings.hashing_key)


@contextmanager
def ctx_client(ctx: typer.Context) -> Iterator[RegistryClient]:
    with _settings(ctx).client() as client:
        yield client
