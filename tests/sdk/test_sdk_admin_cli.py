"""`registry-client admin …` end to end against a real server process, as the association's
staff would run it from their own machine: onboard a member, issue it a client, resolve a
dispute about its record, and verify and search the audit log that recorded it all."""

from __future__ import annotations

import json
import os

import pytest

from registry_client import RegistryClient
from tests.factories import item, token
from tests.sdk.support import cli, member_env, own_live_server


@pytest.fixture(scope="module")
def live_server(server_url, tmp_path_factory):
    """A server on a database of its own: these tests verify the whole audit log."""
    with own_live_server(server_url, tmp_path_factory) as server:
        yield server


def admin_env(live_server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(
        REGISTRY_URL=live_server["url"],
        REGISTRY_CLIENT_ID=live_server["client_id"],
        REGISTRY_CLIENT_SECRET=live_server["client_secret"],
    )
    return {**env, **extra}


def run_json(env, *args):
    done = cli(env, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_onboard_issue_a_client_resolve_a_dispute_and_verify_the_audit_log(live_server):
    env = admin_env(live_server, COLUMNS="50")  # a narrow terminal: ids must still show whole
    code = "CLI" + token()[:8].upper()

    member = run_json(env, "admin", "members", "create", code, "--name", "Remote Bank", "--kind", "bank")
    assert member["code"] == code and member["status"] == "active"
    listed = cli(env, "admin", "members", "list")
    assert listed.returncode == 0 and member["id"] in listed.stdout and code in listed.stdout

    issued = run_json(
        env, "admin", "clients", "create", code, "--name", "core", "--scope", "records:write", "--scope", "disputes"
    )
    assert issued["client_secret"].startswith("brs_") and issued["member_id"] == member["id"]
    clients = cli(env, "admin", "clients", "list", member["id"])
    assert issued["client_id"] in clients.stdout

    # The new member reports a delinquency; the borrower disputes it through the association.
    subject = token()
    with RegistryClient(live_server["url"], issued["client_id"], issued["client_secret"]) as lender:
        record_id = lender.records.submit([item(subject, "REM-1", status="dpd_61_90")]).results[0].record_id
    with RegistryClient(live_server["url"], live_server["client_id"], live_server["client_secret"]) as admin:
        dispute_id = admin.admin.disputes.file(subject, reason="already_settled", statement="Paid in full.").id

    open_disputes = cli(env, "admin", "disputes", "list", "--status", "open")
    assert open_disputes.returncode == 0 and dispute_id in open_disputes.stdout
    shown = run_json(env, "admin", "disputes", "show", dispute_id)
    assert [(c["record_id"], c["institution"]["code"]) for c in shown["covered"]] == [(record_id, code)]
    resolved = run_json(
        env, "admin", "disputes", "resolve", dispute_id, "--resolution", "upheld", "--note", "No answer from the lender"
    )
    assert resolved["status"] == "resolved" and resolved["covered"][0]["outcome"] == "suppressed"
    again = cli(env, "admin", "disputes", "resolve", dispute_id, "--resolution", "rejected", "--note", "x")
    assert again.returncode == 1 and again.stderr.startswith("error: 409") and "Traceback" not in again.stderr

    suspended = run_json(env, "admin", "members", "suspend", code)
    assert suspended["status"] == "suspended"
    revoked = run_json(env, "admin", "clients", "revoke", issued["client_id"])
    assert revoked["status"] == "revoked"

    verified = cli(env, "admin", "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True
    trail = cli(env, "admin", "audit", "search", "--member", code, "--json", "--limit", "100")
    actions = [json.loads(line)["action"] for line in trail.stdout.splitlines()]
    assert "records.submit" in actions
    resolutions = cli(env, "admin", "audit", "search", "--action", "admin.dispute.resolve", "--json")
    outcomes = sorted(json.loads(line)["outcome"] for line in resolutions.stdout.splitlines()[:2])
    assert outcomes == [200, 409]  # the resolution and the refused second one, each audited


def test_admin_commands_need_an_admin_client(live_server):
    wrong_secret = cli(admin_env(live_server, REGISTRY_CLIENT_SECRET="brs_not-the-secret"), "admin", "members", "list")
    assert wrong_secret.returncode == 1 and wrong_secret.stderr.startswith("error: 401")
    member = member_env(live_server)  # a member's client: no admin scope
    refused = cli(member, "admin", "members", "create", "NOPE" + token()[:6].upper(), "--name", "x", "--kind", "bank")
    assert refused.returncode == 1 and refused.stderr.startswith("error: 403") and "Traceback" not in refused.stderr
