"""`registry-client alerts` and `registry-client watch add|list|remove`: portfolio monitoring
from the shell."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from registry_client._cli_common import (
    _fail,
    app,
    clean_errors,
    ctx_client,
    err,
    out,
    print_table,
)
from registry_client.types.monitoring import Alert

watch_app = typer.Typer(help="Borrowers you watch for alerts.", no_args_is_help=True)
app.add_typer(watch_app, name="watch")


def _about(alert: Alert) -> str:
    """What the alert is about: the watched subject, or what a subject-less kind carries."""
    if alert.subject:
        return alert.subject
    if alert.dispute_id:
        accounts = ",".join(r.account_ref or r.record_id for r in alert.records)
        return f"dispute {alert.dispute_id} {alert.resolution or alert.reason or ''} {accounts}"
    if alert.account_ref:
        return f"account {alert.account_ref}"
    return f"checkpoint {(alert.checkpoint or {}).get('id')}"


def _alert_line(alert: Alert) -> str:
    return "  ".join(
        [
            alert.at.isoformat(),
            f"{alert.kind:<15}",
            f"{alert.status or '-':<12}",
            _about(alert),
            alert.label or "",
        ]
    ).rstrip()


@app.command()
@clean_errors
def alerts(
    ctx: typer.Context,
    after: Annotated[
        str | None, typer.Option(help="Resume after this cursor (printed by the last run).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep waiting for new alerts (Ctrl-C stops).")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option(min=1.0, help="With --follow: seconds between reads of an empty feed.")
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print your alert feed in order; the cursor to resume from goes to stderr at the end."""
    with ctx_client(ctx) as client:
        stream = client.alerts.iter(after, follow=follow, poll_interval=poll_interval)
        try:
            for alert in stream:
                line = alert.model_dump_json() if as_json else _alert_line(alert)
                out.print(line, markup=False, highlight=False, soft_wrap=True)
        except KeyboardInterrupt:
            pass
        finally:
            if stream.cursor is not None:
                err.print(f"cursor: {stream.cursor}", markup=False, highlight=False)


@watch_app.command("add")
@clean_errors
def watch_add(
    ctx: typer.Context,
    tokens: Annotated[
        list[str],
        typer.Argument(help="Subject tokens (64 hex); '-' reads one per line from stdin."),
    ],
    label: Annotated[str | None, typer.Option(help="Your note, repeated in each alert.")] = None,
) -> None:
    """Watch borrowers you hold a live record on."""
    subjects = [line.strip() for line in sys.stdin if line.strip()] if tokens == ["-"] else tokens
    if not subjects:
        _fail("no subject tokens given")
    with ctx_client(ctx) as client:
        result = client.watches.add(subjects, label=label)
    out.print(
        f"watching {result.created} new, {result.existing} already watched",
        markup=False,
        highlight=False,
    )


@watch_app.command("list")
@clean_errors
def watch_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Your watches in force, every page."""
    with ctx_client(ctx) as client:
        watches = list(client.watches.list())
    if as_json:
        for watch in watches:
            out.print(watch.model_dump_json(), markup=False, highlight=False)
        return
    print_table(
        ["subject", "label", "since"],
        (
            [
                watch.subject,
                watch.label or "",
                watch.created_at.isoformat() if watch.created_at else "-",
            ]
            for watch in watches
        ),
        ids=("subject",),
    )


@watch_app.command("remove")
@clean_errors
def watch_remove(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(help="The subject token to stop watching.")],
) -> None:
    """Stop watching a borrower."""
    with ctx_client(ctx) as client:
        client.watches.remove(token)
    out.print(f"no longer watching {token}", markup=False, highlight=False)
