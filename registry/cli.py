"""The `registry` command: serve, migrate, bootstrap, and member and client administration.
It reads the same settings as the server, so both use the same database and keys."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from pydantic import ValidationError

from registry.audit import auditor, sealing
from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor, RequestAudit
from registry.auth.principal import Scope
from registry.config import Settings, get_settings
from registry.console import staff as staff_accounts
from registry.console.staff import Role
from registry.core import migrate as migrations
from registry.core.db import Tx, connect
from registry.core.embedded import resolve_database_url
from registry.core.errors import Problem
from registry.core.keys import (
    KeyConfigurationError,
    add_signing_key,
    load_keyring,
    load_signing_keys,
    retire_signing_key,
    signing_keys_dir,
)
from registry.members import repository as members_repository
from registry.members import service as members_service
from registry.members.schemas import (
    ClientCreate,
    MemberCreate,
    MemberKind,
    MemberStatus,
    MemberUpdate,
)
from registry.retention import service as retention_service
from registry.runtime import utc_now

app = typer.Typer(help="Borrower Registry service and administration.", no_args_is_help=True, add_completion=False)
members_app = typer.Typer(help="Onboard and manage members.", no_args_is_help=True)
clients_app = typer.Typer(help="Issue and revoke API clients.", no_args_is_help=True)
app.add_typer(members_app, name="members")
app.add_typer(clients_app, name="clients")
keys_app = typer.Typer(help="Rotate and retire the keys that sign access tokens.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="Seal and verify the audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
staff_app = typer.Typer(help="The association's staff accounts for the console.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")

T = TypeVar("T")
CLI_ACTOR = "cli"
ASSOCIATION_LOCK = 0x5245_4749  # advisory lock key: one bootstrap at a time


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        _fail("; ".join(e["msg"] for e in exc.errors()))
        raise


def _database_url(settings: Settings) -> str:
    return resolve_database_url(settings.database_url, settings.data_dir)


def _run_in_tx(work: Callable[[Tx], Awaitable[T]]) -> T:
    settings = _settings()
    url = _database_url(settings)

    async def run() -> T:
        conn = await connect(url)
        try:
            async with conn.transaction():
                return await work(Tx(conn))
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except Problem as exc:
        _fail(exc.detail)
        raise
    except asyncpg.UndefinedTableError:
        _fail("the database is not migrated; run `registry migrate` first")
        raise


def _run_on_connection(work: Callable[[Tx], Awaitable[T]]) -> T:
    """Like _run_in_tx, for work that runs its own transactions."""
    url = _database_url(_settings())

    async def run() -> T:
        conn = await connect(url)
        try:
            return await work(Tx(conn))
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except asyncpg.UndefinedTableError:
        _fail("the database is not migrated; run `registry migrate` first")
        raise


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, default=str, indent=2))


def _audit(action: AuditAction) -> RequestAudit:
    """The audit row of one CLI command, filled in by the service it runs."""
    return auditor.for_work(action, Actor(None, CLI_ACTOR))


async def _record(tx: Tx, audit: RequestAudit, member_id: uuid.UUID | None) -> None:
    audit.actor = Actor(member_id, CLI_ACTOR)
    audit.details = {**audit.details, "via": "cli"}
    await audit.record(tx.conn, 200)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", envvar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="Do not apply migrations first")] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies trusted for X-Forwarded-For/-Proto: addresses, networks or * "
            "(default: REGISTRY_FORWARDED_ALLOW_IPS; empty trusts none)"
        ),
    ] = None,
) -> None:
    """Serve the API (migrating the database first)."""
    import logging.config

    import uvicorn

    from registry.core.http_protocols import HTTP_PROTOCOL
    from registry.core.logging import log_config
    from registry.core.metrics import MULTIPROCESS_ENV, prepare_multiprocess_dir

    if forwarded_allow_ips is not None:  # the app applies it (create_app), in every worker
        os.environ["REGISTRY_FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
        get_settings.cache_clear()
    settings = _settings()
    logging_config = log_config(settings)
    logging.config.dictConfig(logging_config)
    try:
        load_keyring(settings)  # generate development keys once, before workers race for them
    except KeyConfigurationError as exc:
        _fail(str(exc))
    # This process owns the embedded PostgreSQL (when no URL is set) and restarts it if it
    # dies; its workers only connect to it.
    url = resolve_database_url(settings.database_url, settings.data_dir, supervise=True)
    if not no_migrate:
        migrations.upgrade(url)
    os.environ["REGISTRY_DATABASE_URL"] = url  # workers join the same database
    if workers > 1:  # each worker writes its metrics to files there; /metrics sums them
        os.environ[MULTIPROCESS_ENV] = str(prepare_multiprocess_dir(settings.data_dir))
    get_settings.cache_clear()
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through Python instead
    # lets the embedded PostgreSQL stop with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "registry.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        log_config=logging_config,
        access_log=False,  # the service writes its own access lines (route template, no query string)
        proxy_headers=False,  # the app trusts proxies itself, from settings (forwarded_allow_ips)
        server_header=False,
        http=HTTP_PROTOCOL,  # a request uvicorn cannot parse is answered as a problem too
    )


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrations.upgrade(_database_url(_settings()), revision)
    typer.echo(f"migrated to {revision}")


@app.command()
def bootstrap(
    new_client: Annotated[bool, typer.Option("--new-client", help="Issue a fresh admin client")] = False,
    code: Annotated[str, typer.Option(help="Code of the association member")] = "ASSOC",
    name: Annotated[str, typer.Option(help="Name of the association")] = "Lenders' Association",
) -> None:
    """Create the association member and its admin client (idempotent); print them as JSON."""
    settings = _settings()
    try:
        keys = load_keyring(settings)
    except KeyConfigurationError as exc:
        _fail(str(exc))
        raise
    if keys.hashing_key is None:
        _fail("REGISTRY_HASHING_KEY or REGISTRY_HASHING_KEY_FILE is required in production")
    migrations.upgrade(_database_url(settings))

    async def work(tx: Tx) -> dict[str, Any]:
        await tx.conn.execute("SELECT pg_advisory_xact_lock($1)", ASSOCIATION_LOCK)
        association = await members_repository.find_association(tx.conn)
        if association is None:
            audit = _audit(AuditAction.ADMIN_MEMBER_CREATE)
            created = await members_service.create_member(
                tx, MemberCreate(code=code, name=name, kind=MemberKind.association), audit
            )
            await _record(tx, audit, created.id)
            member_id, member_code = created.id, created.code
        else:
            member_id, member_code = association.id, association.code
        existing = await members_repository.first_admin_client(tx.conn, member_id)
        out: dict[str, Any] = {"member_code": member_code}
        if existing is None or new_client:
            audit = _audit(AuditAction.ADMIN_CLIENT_CREATE)
            client = await members_service.create_client(
                tx, member_id, ClientCreate(name="association-admin", scopes=[Scope.ADMIN]), audit
            )
            await _record(tx, audit, member_id)
            out.update(client_id=client.client_id, client_secret=client.client_secret)
        else:
            out["client_id"] = existing.client_id
        out["hashing_key"] = keys.hashing_key.hex()  # type: ignore[union-attr]
        return out

    typer.echo(json.dumps(_run_in_tx(work)))


@members_app.command("create")
def members_create(
    code: Annotated[str, typer.Argument(help="Member code, e.g. BANK001")],
    name: Annotated[str, typer.Option(help="Display name")],
    kind: Annotated[MemberKind, typer.Option(help="Kind of institution")] = MemberKind.bank,
) -> None:
    """Onboard a member."""
    try:
        body = MemberCreate(code=code, name=name, kind=kind)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        raise

    async def work(tx: Tx) -> Any:
        audit = _audit(AuditAction.ADMIN_MEMBER_CREATE)
        member = await members_service.create_member(tx, body, audit)
        await _record(tx, audit, member.id)
        return member.model_dump(mode="json")

    _print(_run_in_tx(work))


@members_app.command("list")
def members_list() -> None:
    """List every member."""

    async def work(tx: Tx) -> Any:
        out, cursor = [], None
        while True:
            page = await members_service.list_members(tx, cursor, 500)
            out.extend(m.model_dump(mode="json") for m in page.data)
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    _print(_run_in_tx(work))


def _set_status(code: str, status: MemberStatus) -> None:
    async def work(tx: Tx) -> Any:
        member = await members_service.get_member_by_code(tx, code)
        audit = _audit(AuditAction.ADMIN_MEMBER_UPDATE)
        updated = await members_service.update_member(tx, member.id, MemberUpdate(status=status), audit)
        await _record(tx, audit, member.id)
        return updated.model_dump(mode="json")

    _print(_run_in_tx(work))


@members_app.command("suspend")
def members_suspend(code: Annotated[str, typer.Argument(help="Member code")]) -> None:
    """Suspend a member: its tokens stop working at once."""
    _set_status(code, MemberStatus.suspended)


@members_app.command("reactivate")
def members_reactivate(code: Annotated[str, typer.Argument(help="Member code")]) -> None:
    """Reactivate a suspended member."""
    _set_status(code, MemberStatus.active)


@clients_app.command("create")
def clients_create(
    member_code: Annotated[str, typer.Argument(help="Code of the member the client belongs to")],
    name: Annotated[str, typer.Option(help="What the client is for")],
    scope: Annotated[list[Scope], typer.Option(help="A scope to grant; repeat for more")],
    public_jwk: Annotated[
        Path | None,
        typer.Option(help="File with the client's public JWK: registers a private_key_jwt client, no secret"),
    ] = None,
) -> None:
    """Issue an API client; the secret is printed this once."""
    try:
        jwk = json.loads(public_jwk.read_text()) if public_jwk is not None else None
        body = ClientCreate(name=name, scopes=scope, public_jwk=jwk)
    except (OSError, ValueError) as exc:
        detail = "; ".join(e["msg"] for e in exc.errors()) if isinstance(exc, ValidationError) else str(exc)
        _fail(f"cannot use the public key: {detail}" if public_jwk and not isinstance(exc, ValidationError) else detail)
        raise

    async def work(tx: Tx) -> Any:
        member = await members_service.get_member_by_code(tx, member_code)
        audit = _audit(AuditAction.ADMIN_CLIENT_CREATE)
        client = await members_service.create_client(tx, member.id, body, audit)
        await _record(tx, audit, member.id)
        return client.model_dump(mode="json")

    _print(_run_in_tx(work))


@clients_app.command("list")
def clients_list(member_code: Annotated[str, typer.Argument(help="Member code")]) -> None:
    """List a member's clients."""

    async def work(tx: Tx) -> Any:
        member = await members_service.get_member_by_code(tx, member_code)
        return [
            c.model_dump(mode="json")
            for c in await members_service.list_clients(tx, member.id, _audit(AuditAction.ADMIN_CLIENT_LIST))
        ]

    _print(_run_in_tx(work))


@clients_app.command("revoke")
def clients_revoke(client_id: Annotated[str, typer.Argument(help="Client id (brc_...)")]) -> None:
    """Revoke a client: its tokens stop working at once."""

    async def work(tx: Tx) -> Any:
        audit = _audit(AuditAction.ADMIN_CLIENT_REVOKE)
        client = await members_service.revoke_client(tx, client_id, audit)
        await _record(tx, audit, client.member_id)
        return client.model_dump(mode="json")

    _print(_run_in_tx(work))


retention_app = typer.Typer(help="Purge expired information.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run() -> None:
    """Delete expired records with their history and inquiries older than 24 months; print the counts."""

    async def work(tx: Tx) -> Any:
        result = await retention_service.run_and_audit(tx, now=utc_now(), actor=CLI_ACTOR)
        return result.model_dump(mode="json")

    _print(_run_in_tx(work))


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="registry")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a signing key that signs from now on; older keys keep verifying until retired."""
    settings = _settings()
    if settings.jwt_private_key is not None:
        _fail("REGISTRY_JWT_PRIVATE_KEY holds a single key; use REGISTRY_JWT_KEYS_DIR to rotate")
    try:
        load_keyring(settings)  # the directory and a first key exist
        kid = add_signing_key(signing_keys_dir(settings))
    except KeyConfigurationError as exc:
        _fail(str(exc))
        raise
    _print({"kid": kid, "keys": sorted(load_signing_keys(settings)[0])})


@keys_app.command("retire")
def keys_retire(kid: Annotated[str, typer.Argument(help="Key id (kid) to remove")]) -> None:
    """Remove a key that no longer signs; tokens it signed stop verifying. Put `--` before a
    key id that begins with `-`: `registry keys retire -- KID`."""
    settings = _settings()
    try:
        retire_signing_key(signing_keys_dir(settings), kid)
    except KeyConfigurationError as exc:
        _fail(str(exc))
    _print({"retired": kid, "keys": sorted(load_signing_keys(settings)[0])})


@keys_app.command("list")
def keys_list() -> None:
    """List the signing keys and which one signs."""
    keys, current = load_signing_keys(_settings())
    _print([{"kid": kid, "current": kid == current} for kid in sorted(keys)])


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal the audit rows of finished transactions into a signed checkpoint now."""
    settings = _settings()
    keys = load_keyring(settings)

    async def work(tx: Tx) -> Any:
        return {"sealed_rows": await sealing.seal(tx.conn, keys.signing_key)}

    _print(_run_on_connection(work))


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute every checkpoint from the rows and check its signature; exit 1 on any problem."""
    keys = load_signing_keys(_settings())[0]

    async def work(tx: Tx) -> Any:
        return await sealing.verify(tx.conn, keys)

    report = _run_on_connection(work)
    _print(report.model_dump())
    if not report.ok:
        raise typer.Exit(code=1)


def _staff_work(action: AuditAction, email: str, work: Callable[[Tx, bytes], Awaitable[T]]) -> T:
    """Run `work` with K_server (staff TOTP secrets are sealed under it), audited as the CLI's."""
    settings = _settings()
    try:
        server_key = load_keyring(settings).server_key
    except KeyConfigurationError as exc:
        _fail(str(exc))
        raise

    async def audited_work(tx: Tx) -> T:
        result = await work(tx, server_key)
        await auditor.record_event(
            tx.conn,
            action,
            actor=Actor(None, CLI_ACTOR),
            resource=f"staff:{email.strip().lower()}",
            details={"via": "cli"},
        )
        return result

    return _run_in_tx(audited_work)


@staff_app.command("create")
def staff_create(
    email: Annotated[str, typer.Argument(help="The person's email: their sign-in name")],
    role: Annotated[Role, typer.Option(help="admin, dispute_officer, analyst or auditor")],
) -> None:
    """Create a console account; print its password and TOTP secret as JSON, this once."""

    async def work(tx: Tx, server_key: bytes) -> Any:
        return (await staff_accounts.create(tx.conn, server_key, email, role)).as_json()

    typer.echo(json.dumps(_staff_work(AuditAction.STAFF_CREATE, email, work)))


@staff_app.command("list")
def staff_list() -> None:
    """List the console accounts (never their secrets)."""

    async def work(tx: Tx) -> Any:
        return [s.as_json() for s in await staff_accounts.list_all(tx.conn)]

    _print(_run_in_tx(work))


@staff_app.command("disable")
def staff_disable(email: Annotated[str, typer.Argument(help="The account's email")]) -> None:
    """Disable an account: its sessions end at once and it cannot sign in."""

    async def work(tx: Tx, server_key: bytes) -> Any:
        return (await staff_accounts.disable(tx.conn, email, utc_now())).as_json()

    _print(_staff_work(AuditAction.STAFF_DISABLE, email, work))


@staff_app.command("reset")
def staff_reset(email: Annotated[str, typer.Argument(help="The account's email")]) -> None:
    """A new password and TOTP secret (printed this once); the account's sessions end."""

    async def work(tx: Tx, server_key: bytes) -> Any:
        return (await staff_accounts.reset(tx.conn, server_key, email, utc_now())).as_json()

    typer.echo(json.dumps(_staff_work(AuditAction.STAFF_RESET, email, work)))
