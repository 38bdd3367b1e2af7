"""`registry-client admin …`: the association's administration from any machine, over the
API with an `admin`-scope client (the one `registry bootstrap` prints), built on
`client.admin`. The server's own `registry …` command does the same on the server host,
against the database.

A command that makes or changes one thing prints it as JSON (so `| jq -r .id` reads it);
listings print a table, or one JSON object a line with `--json`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from registry_client._cli_common import (
    EXIT_ERROR,
    _fail,
    admin_app,
    clean_errors,
    ctx_client,
    err,
    out,
    percent,
    print_table,
)
from registry_client._client import RegistryClient
from registry_client.types.admin import MemberKind, Scope
from registry_client.types.disputes import DisputeStatus, Resolution

members_app = typer.Typer(help="Members: onboard, list, suspend, reactivate.", no_args_is_help=True)
clients_app = typer.Typer(help="Members' API clients: issue, list, revoke.", no_args_is_help=True)
disputes_app = typer.Typer(help="Disputes: list, show, resolve.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: search, verify, export.", no_args_is_help=True)
admin_app.add_typer(members_app, name="members")
admin_app.add_typer(clients_app, name="clients")
admin_app.add_typer(disputes_app, name="disputes")
admin_app.add_typer(audit_app, name="audit")

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _print_json(model: BaseModel) -> None:
    out.print(model.model_dump_json(indent=2), markup=False, highlight=False)


def _print_lines(models: list[BaseModel]) -> None:
    for model in models:
        out.print(model.model_dump_json(), markup=False, highlight=False)


def _member_id(client: RegistryClient, member: str) -> str:
    """A member named by id or by code."""
    if UUID.match(member):
        return member
    for found in client.admin.members.list(page_size=200):
        if found.code == member:
            return found.id
    _fail(f"no member with code {member}")


# --- members -------------------------------------------------------------------------------


@members_app.command("create")
@clean_errors
def members_create(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The member's code, e.g. BANK001.")],
    name: Annotated[str, typer.Option(help="The member's name.")],
    kind: Annotated[MemberKind, typer.Option(help="What kind of lender it is.")],
) -> None:
    """Onboard a member; prints it as JSON (`| jq -r .id` gives its id)."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.members.create(code=code, name=name, kind=kind))


@members_app.command("list")
@clean_errors
def members_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every member."""
    with ctx_client(ctx) as client:
        members = list(client.admin.members.list(page_size=200))
    if as_json:
        _print_lines(members)  # type: ignore[arg-type]
        return
    print_table(
        ["id", "code", "name", "kind", "status"],
        ([m.id, m.code, m.name, m.kind, m.status] for m in members),
        ids=("id", "code"),
    )


@members_app.command("suspend")
@clean_errors
def members_suspend(
    ctx: typer.Context, member: Annotated[str, typer.Argument(help="Member id or code.")]
) -> None:
    """Suspend a member: its clients are refused at once."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.members.suspend(_member_id(client, member)))


@members_app.command("reactivate")
@clean_errors
def members_reactivate(
    ctx: typer.Context, member: Annotated[str, typer.Argument(help="Member id or code.")]
) -> None:
    """Reactivate a suspended member."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.members.reactivate(_member_id(client, member)))


# --- clients -------------------------------------------------------------------------------


@clients_app.command("create")
@clean_errors
def clients_create(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="Member id or code.")],
    name: Annotated[str, typer.Option(help="What the client is for, e.g. loan-origination.")],
    scope: Annotated[list[Scope], typer.Option("--scope", help="A scope; repeat for several.")],
    public_jwk: Annotated[
        Path | None,
        typer.Option(help="A JSON file with the member's public JWK: a private_key_jwt client."),
    ] = None,
) -> None:
    """Issue an API client; prints it as JSON with `client_secret`, shown this once."""
    jwk = json.loads(public_jwk.read_text()) if public_jwk is not None else None
    with ctx_client(ctx) as client:
        issued = client.admin.clients.create(
            _member_id(client, member), name=name, scopes=scope, public_jwk=jwk
        )
    _print_json(issued)
    if issued.client_secret:
        err.print("the secret is shown this once: hand it over now", markup=False)


@clients_app.command("list")
@clean_errors
def clients_list(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="Member id or code.")],
    as_json: JsonOption = False,
) -> None:
    """A member's API clients, revoked ones included."""
    with ctx_client(ctx) as client:
        issued = list(client.admin.clients.list(_member_id(client, member)))
    if as_json:
        _print_lines(issued)  # type: ignore[arg-type]
        return
    print_table(
        ["client_id", "name", "scopes", "status", "last_used_at"],
        (
            [
                c.client_id,
                c.name or "",
                " ".join(c.scopes),
                c.status or "",
                c.last_used_at.isoformat() if c.last_used_at else "-",
            ]
            for c in issued
        ),
        ids=("client_id",),
    )


@clients_app.command("revoke")
@clean_errors
def clients_revoke(
    ctx: typer.Context, client_id: Annotated[str, typer.Argument(help="The client id (brc_…).")]
) -> None:
    """Revoke a client: its tokens stop working at once."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.clients.revoke(client_id))


# --- disputes ------------------------------------------------------------------------------


@disputes_app.command("list")
@clean_errors
def disputes_list(
    ctx: typer.Context,
    status: Annotated[DisputeStatus | None, typer.Option(help="open or resolved.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only those open past their deadline.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Disputes, oldest first."""
    with ctx_client(ctx) as client:
        found = list(client.admin.disputes.list(status=status, overdue=overdue or None))
    if as_json:
        _print_lines(found)  # type: ignore[arg-type]
        return
    print_table(
        ["id", "status", "reason", "records", "deadline", "overdue", "resolution"],
        (
            [
                d.id,
                d.status,
                d.reason,
                str(d.records),
                d.deadline.date().isoformat(),
                "yes" if d.overdue else "no",
                d.resolution or "-",
            ]
            for d in found
        ),
        ids=("id",),
    )


@disputes_app.command("show")
@clean_errors
def disputes_show(
    ctx: typer.Context, dispute_id: Annotated[str, typer.Argument(help="The dispute's id.")]
) -> None:
    """One dispute with every covered record, its institution and answer, and the history."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.disputes.get(dispute_id))


@disputes_app.command("resolve")
@clean_errors
def disputes_resolve(
    ctx: typer.Context,
    dispute_id: Annotated[str, typer.Argument(help="The dispute's id.")],
    resolution: Annotated[Resolution, typer.Option(help="upheld, rejected or unverifiable.")],
    note: Annotated[str, typer.Option(help="Why; kept with the dispute.")],
) -> None:
    """Resolve a dispute; prints it as JSON with each covered record's outcome."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.disputes.resolve(dispute_id, resolution=resolution, note=note))


# --- audit ---------------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


MemberFilter = Annotated[str | None, typer.Option("--member", help="Member id or code.")]
ActionFilter = Annotated[str | None, typer.Option(help="An action, e.g. admin.member.create.")]
OutcomeFilter = Annotated[int | None, typer.Option(help="An HTTP status, e.g. 403.")]
SinceFilter = Annotated[str | None, typer.Option(help="From this time (ISO 8601), inclusive.")]
UntilFilter = Annotated[str | None, typer.Option(help="Until this time (ISO 8601), exclusive.")]


@audit_app.command("search")
@clean_errors
def audit_search(
    ctx: typer.Context,
    member: MemberFilter = None,
    action: ActionFilter = None,
    outcome: OutcomeFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    limit: Annotated[int, typer.Option(min=1, help="Stop after this many entries.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Audit entries, newest first."""
    with ctx_client(ctx) as client:
        member_id = _member_id(client, member) if member else None
        listing = client.admin.audit.search(
            member_id=member_id,
            action=action,
            outcome=outcome,
            since=_when(since),
            until=_when(until),
            page_size=min(limit, 500),
        )
        entries = [entry for _, entry in zip(range(limit), listing, strict=False)]
    if as_json:
        _print_lines(entries)  # type: ignore[arg-type]
        return
    print_table(
        ["id", "at", "action", "outcome", "member_id", "client_id", "resource"],
        (
            [
                e.id,
                e.at.isoformat(),
                e.action,
                str(e.outcome),
                e.member_code or e.member_id or "-",
                e.client_id or "-",
                e.resource or "-",
            ]
            for e in entries
        ),
        ids=("id", "member_id", "client_id", "resource"),
    )


@audit_app.command("verify")
@clean_errors
def audit_verify(ctx: typer.Context) -> None:
    """Check every row and signed checkpoint; prints the report, exit code 1 on any problem."""
    with ctx_client(ctx) as client:
        verification = client.admin.audit.verify()
    _print_json(verification)
    if not verification.ok:
        raise typer.Exit(EXIT_ERROR)


@audit_app.command("export")
@clean_errors
def audit_export(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="The NDJSON file to write.")],
    member: MemberFilter = None,
    action: ActionFilter = None,
    outcome: OutcomeFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
) -> None:
    """Write the matching entries to a file, one JSON object a line, newest first."""
    with ctx_client(ctx) as client:
        written = client.admin.audit.export(
            target,
            member_id=_member_id(client, member) if member else None,
            action=action,
            outcome=outcome,
            since=_when(since),
            until=_when(until),
        )
    err.print(f"{written} entries written to {target}", markup=False, highlight=False)


# --- statistics, subject report, retention -------------------------------------------------


@admin_app.command("stats")
@clean_errors
def stats(
    ctx: typer.Context,
    member: Annotated[
        str | None, typer.Option("--member", help="One member's figures (id or code), 12 months.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole answer as JSON.")
    ] = False,
) -> None:
    """Industry statistics: records, delinquency and uncollected rates, disputes, inquiries."""
    with ctx_client(ctx) as client:
        if member:
            _print_json(client.admin.stats.member(_member_id(client, member)))
            return
        figures = client.admin.stats.industry()
    if as_json:
        _print_json(figures)
        return

    rows = [("industry", figures.industry), *((m.code, m) for m in figures.members)]
    print_table(
        ["member", "live", "delinquent", "uncollected", "disputes open", "stacked"],
        (
            [
                name,
                str(f.records.live),
                f"{f.records.delinquent} ({percent(f.records.delinquency_rate)})",
                f"{f.records.uncollected} ({percent(f.records.uncollected_rate)})",
                str(f.disputes.open),
                str(f.inquiries.stacked_subjects),
            ]
            for name, f in rows
        ),
        ids=("member",),
    )


@admin_app.command("subject-report")
@clean_errors
def subject_report(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="The borrower's token (64 hex).")],
    html: Annotated[
        Path | None, typer.Option(help="Write the printable page for the borrower to this file.")
    ] = None,
) -> None:
    """What the registry holds about one borrower (an access request), as JSON or a page."""
    with ctx_client(ctx) as client:
        if html is not None:
            html.write_text(client.admin.subject_report.html(subject), encoding="utf-8")
            err.print(f"written to {html}", markup=False, highlight=False)
            return
        _print_json(client.admin.subject_report.get(subject))


@admin_app.command("retention-run")
@clean_errors
def retention_run(ctx: typer.Context) -> None:
    """Run the retention pass now; prints what it deleted."""
    with ctx_client(ctx) as client:
        _print_json(client.admin.retention.run())
