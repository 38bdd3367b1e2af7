"""`registry-client scorecard` and `worklist` (a member's collection figures and the accounts
to chase, per branch), and `registry-client admin league|thresholds|alerts` (the
association's league table, its limits on members' figures and its own alert feed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from registry_client._cli_common import (
    admin_app,
    amount,
    app,
    clean_errors,
    ctx_client,
    err,
    out,
    percent,
    print_table,
)
from registry_client.types.monitoring import AssociationAlert
from registry_client.types.scorecards import CollectionFigures, LeagueSort, Scorecard

thresholds_app = typer.Typer(
    help="The association's limits on members' figures.", no_args_is_help=True
)
admin_app.add_typer(thresholds_app, name="thresholds")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")]
RATES = ("delinquency_rate", "uncollected_rate", "recovery_rate", "disputes_upheld_share")
FIGURES = ("live_accounts", *RATES, "reporting_age_days")


def _figure(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    return percent(value) if name in RATES else f"{value:g}"


def _print_text(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _figure_cells(figures: CollectionFigures) -> list[str]:
    return [_figure(name, getattr(figures, name)) for name in FIGURES]


def _print_scorecard(card: Scorecard) -> None:
    out.print(f"as of {card.as_of.isoformat()}", markup=False, highlight=False)
    industry = card.industry
    print_table(
        ["figure", "you", "industry p25", "median", "p75", "your percentile"],
        (
            [
                name,
                _figure(name, getattr(card.member, name)),
                _figure(name, industry.p25.get(name)),
                _figure(name, industry.median.get(name)),
                _figure(name, industry.p75.get(name)),
                _figure("percentile", card.percentile.get(name)),
            ]
            for name in FIGURES
        ),
    )
    print_table(
        ["branch", *FIGURES],
        ([b.branch_code or "(none)", *_figure_cells(b)] for b in card.branches),
        ids=("branch",),
    )


@app.command()
@clean_errors
def scorecard(
    ctx: typer.Context,
    months: Annotated[
        int | None, typer.Option(min=1, max=24, help="Months in the series (default 12).")
    ] = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the branches table as CSV.")] = False,
) -> None:
    """Your collection figures against the industry's, and per branch."""
    with ctx_client(ctx) as client:
        if as_csv:
            _print_text(client.scorecard.branches_csv())
            return
        card = client.scorecard.get(months=months)
    if as_json:
        out.print(card.model_dump_json(indent=2), markup=False, highlight=False)
        return
    _print_scorecard(card)


@app.command()
@clean_errors
def worklist(
    ctx: typer.Context,
    branch: Annotated[str | None, typer.Option(help="Only this branch's accounts.")] = None,
    min_days: Annotated[
        int | None, typer.Option(min=0, help="Only accounts at least this many days past due.")
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Write the whole list to this CSV file ('-': stdout)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Your uncollected accounts (no collection action in 30 days), most days past due first."""
    filters = {"uncollected": True, "branch_code": branch, "min_days": min_days}
    with ctx_client(ctx) as client:
        if csv_file is not None:
            text = client.records.list_csv(**filters)  # type: ignore[arg-type]
            if str(csv_file) == "-":
                _print_text(text)
                return
            csv_file.write_text(text, encoding="utf-8")
            rows = max(len(text.splitlines()) - 1, 0)
            err.print(f"{rows} accounts written to {csv_file}", markup=False, highlight=False)
            return
        records = list(client.records.list(**filters))  # type: ignore[arg-type]
    if as_json:
        for record in records:
            out.print(record.model_dump_json(exclude_none=True), markup=False, highlight=False)
        return
    print_table(
        ["id", "account_ref", "branch", "days past due", "status", "overdue", "last action"],
        (
            [
                r.id,
                r.account_ref,
                r.branch_code or "-",
                str(r.days_past_due) if r.days_past_due is not None else "-",
                r.status or "-",
                amount(r.currency, r.overdue_amount),
                r.last_collection_action_on.isoformat() if r.last_collection_action_on else "-",
            ]
            for r in records
        ),
        ids=("id", "account_ref"),
    )


# --- the association -----------------------------------------------------------------------


@admin_app.command("league")
@clean_errors
def league(
    ctx: typer.Context,
    sort: Annotated[
        LeagueSort, typer.Option(help="The figure to rank by, worst first.")
    ] = LeagueSort.UNCOLLECTED_RATE,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the table as CSV.")] = False,
) -> None:
    """Members ranked by a collection figure, worst first."""
    with ctx_client(ctx) as client:
        if as_csv:
            _print_text(client.admin.stats.league_csv(sort))
            return
        table = client.admin.stats.league(sort)
    if as_json:
        out.print(table.model_dump_json(indent=2), markup=False, highlight=False)
        return
    print_table(
        ["rank", "code", "name", "branches", *FIGURES],
        ([str(m.rank), m.code, m.name, str(m.branches), *_figure_cells(m)] for m in table.members),
        ids=("code",),
    )


@thresholds_app.command("get")
@clean_errors
def thresholds_get(ctx: typer.Context) -> None:
    """The limits in force, as JSON (null: no limit)."""
    with ctx_client(ctx) as client:
        limits = client.admin.thresholds.get()
    out.print(limits.model_dump_json(indent=2), markup=False, highlight=False)


RateOption = Annotated[float | None, typer.Option(min=0.0, max=1.0)]


@thresholds_app.command("set")
@clean_errors
def thresholds_set(
    ctx: typer.Context,
    delinquency_rate: RateOption = None,
    uncollected_rate: RateOption = None,
    recovery_rate: RateOption = None,
    reporting_age_days: Annotated[int | None, typer.Option(min=0, max=3650)] = None,
) -> None:
    """Replace the whole set of limits (a figure not given has none); prints them.

    Rates are fractions: --uncollected-rate 0.3 is 30 %."""
    with ctx_client(ctx) as client:
        limits = client.admin.thresholds.set(
            delinquency_rate=delinquency_rate,
            uncollected_rate=uncollected_rate,
            recovery_rate=recovery_rate,
            reporting_age_days=reporting_age_days,
        )
    out.print(limits.model_dump_json(indent=2), markup=False, highlight=False)


def _association_alert_line(alert: AssociationAlert) -> str:
    details = alert.details
    member = details.get("member") or {}
    what = (
        f"{details.get('figure')} {details.get('value')} (limit {details.get('limit')})"
        if "figure" in details
        else " ".join(f"{k}={v}" for k, v in details.items() if k != "member")
    )
    return "  ".join(
        [alert.at.isoformat(), f"{alert.kind:<24}", str(member.get("code") or "-"), what]
    ).rstrip()


@admin_app.command("alerts")
@clean_errors
def association_alerts(
    ctx: typer.Context,
    after: Annotated[
        str | None, typer.Option(help="Resume after this cursor (printed by the last run).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The association's alert feed: thresholds crossed and cleared, disputes overdue.

    The cursor to resume from goes to stderr at the end."""
    with ctx_client(ctx) as client:
        stream = client.admin.alerts.iter(after)
        try:
            for alert in stream:
                line = alert.model_dump_json() if as_json else _association_alert_line(alert)
                out.print(line, markup=False, highlight=False, soft_wrap=True)
        finally:
            if stream.cursor is not None:
                err.print(f"cursor: {stream.cursor}", markup=False, highlight=False)
