"""A client generated from /openapi.json by openapi-python-client, as a member's team would
make one: it generates without a warning, with every operation, and works against a real
server: onboarding, a token, a binary upload, its NDJSON error report."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from registry.records.schemas import RECORD_EXAMPLE

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "clients" / "openapi-python-client.yaml"
PACKAGE = "borrower_registry_client"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(live_server, tmp_path_factory):
    """The generated package, imported from a temporary directory."""
    out = tmp_path_factory.mktemp("generated")
    bin_dir = str(Path(sys.executable).parent)  # its post-generation hooks run ruff from the venv
    result = subprocess.run(
        [
            os.path.join(bin_dir, "openapi-python-client"),
            "generate",
            "--url",
            live_server["url"] + "/openapi.json",
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--config",
            str(CONFIG),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield result, importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_it_generates_without_a_warning_and_with_every_operation(generated, live_server):
    import httpx

    result, package = generated
    output = result.stdout + result.stderr
    assert "warning" not in output.lower(), output
    document = httpx.get(live_server["url"] + "/openapi.json").json()
    wanted = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    root = Path(package.__file__).parent / "api"
    modules = {path.stem for path in root.rglob("*.py") if path.stem != "__init__"}
    assert wanted == modules


def test_the_generated_client_works_against_a_real_server(generated, live_server):
    _, package = generated
    models = importlib.import_module(PACKAGE + ".models")
    types = importlib.import_module(PACKAGE + ".types")

    def operation(tag: str, name: str):
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")

    token_api = operation("auth", "token")
    members_api = operation("admin_members", "create_member")
    clients_api = operation("admin_members", "create_client")
    upload_api = operation("uploads", "upload")
    errors_api = operation("uploads", "upload_errors")

    anonymous = package.Client(base_url=live_server["url"], raise_on_unexpected_status=True)

    def token(client_id: str, secret: str, scope: str) -> str:
        body = models.TokenRequest(
            grant_type=models.GrantType.CLIENT_CREDENTIALS,
            client_id=client_id,
            client_secret=secret,
            scope=scope,
        )
        answer = token_api.sync(client=anonymous, body=body)
        assert isinstance(answer, models.TokenResponse), answer
        return answer.access_token

    admin = package.AuthenticatedClient(
        base_url=live_server["url"],
        token=token(live_server["client_id"], live_server["client_secret"], "admin"),
        raise_on_unexpected_status=True,
    )
    code = "GEN" + uuid.uuid4().hex[:8].upper()
    member = members_api.sync(
        client=admin, body=models.MemberCreate(code=code, name="Generated client bank", kind=models.MemberKind.BANK)
    )
    assert isinstance(member, models.MemberOut) and member.code == code
    created = clients_api.sync(
        member.id,
        client=admin,
        body=models.ClientCreate(name="generated", scopes=[models.Scope.RECORDSWRITE]),
    )
    assert isinstance(created, models.ClientCreated), created
    writer = package.AuthenticatedClient(
        base_url=live_server["url"],
        token=token(created.client_id, created.client_secret, "records:write"),
        raise_on_unexpected_status=True,
    )

    good = {**RECORD_EXAMPLE, "account_ref": "GEN-1"}
    bad = {**RECORD_EXAMPLE, "account_ref": "GEN-2", "status": "dpd_61_90", "notice_sent_on": None}
    ndjson = "".join(json.dumps(item) + "\n" for item in (good, bad)).encode()
    job = upload_api.sync(
        client=writer, body=types.File(payload=ndjson), format_=models.Format.NDJSON, idempotency_key=code
    )
    assert isinstance(job, models.UploadJobOut), job
    assert (job.status, job.created, job.rejected) == (models.JobStatus.COMPLETED, 1, 1)
    report = errors_api.sync(job.id, client=writer)
    lines = [json.loads(line) for line in report.splitlines()]
    assert [(line["line"], line["account_ref"]) for line in lines] == [(2, "GEN-2")]
    assert lines[0]["errors"][0]["field"] == "notice_sent_on"
