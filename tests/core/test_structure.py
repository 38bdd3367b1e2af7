"""The layout's promises, checked on the code itself (docs/architecture.md): one writer of the
audit log, tenancy as a type at the service and repository boundary, routes that hand their
service one request context, repositories that answer typed rows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2] / "registry"
REPOSITORIES = sorted(p.parent.name for p in ROOT.glob("*/repository.py"))
# Domains whose data belongs to members: their service and repository functions take a tenant.
MEMBER_DATA = {"records", "exposure", "monitoring", "disputes", "uploads", "subject_report"}


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        n
        for n in _tree(path).body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not n.name.startswith("_")
    ]


def test_only_the_audit_package_imports_the_audit_repository():
    offenders = [
        str(p.relative_to(ROOT.parent))
        for p in _modules()
        if "audit" not in p.relative_to(ROOT).parts[:1] and "registry.audit.repository" in _imports(p)
    ]
    assert offenders == []


def test_nothing_but_the_auditor_appends_audit_rows():
    appenders = [
        str(p.relative_to(ROOT.parent))
        for p in _modules()
        if "INSERT INTO audit_log" in p.read_text() and p.name not in ("repository.py", "auditor.py")
    ]
    assert appenders == []


@pytest.mark.parametrize("domain", sorted(MEMBER_DATA))
def test_member_data_services_take_no_bare_member_id(domain):
    service = ROOT / domain / "service.py"
    taking = [f.name for f in _functions(service) for a in [*f.args.args, *f.args.kwonlyargs] if a.arg == "member_id"]
    assert taking == [], f"{domain}.service: pass a context or a Tenant, not a member id"


@pytest.mark.parametrize("domain", sorted(MEMBER_DATA - {"exposure"}))
def test_member_data_repositories_take_a_tenant(domain):
    repository = ROOT / domain / "repository.py"
    tenant_types = {"Member", "Association", "Tenant", "Tenancy"}
    untyped = []
    for function in _functions(repository):
        params = [*function.args.args, *function.args.kwonlyargs]
        if any(a.arg == "member_id" for a in params):
            untyped.append(function.name)
    assert untyped == [], f"{domain}.repository: {untyped} take a bare member id"
    # ...and the ones that read or write a member's rows name its tenant.
    annotated = {ast.unparse(a.annotation) for f in _functions(repository) for a in f.args.args if a.annotation}
    assert annotated & tenant_types, f"{domain}.repository takes no Tenant at all"


@pytest.mark.parametrize("domain", REPOSITORIES)
def test_repositories_answer_typed_rows(domain):
    repository = ROOT / domain / "repository.py"
    returning_records = [
        f.name for f in _functions(repository) if f.returns is not None and "asyncpg.Record" in ast.unparse(f.returns)
    ]
    allowed = {"stats"}  # its aggregates are reshaped by the scorecards work; see docs/architecture.md
    assert domain in allowed or returning_records == []


def test_routes_build_no_sql_and_hold_no_transaction():
    for path in ROOT.glob("*/routes.py"):
        text = path.read_text()
        for marker in ("SELECT ", "INSERT ", ".fetch(", ".execute(", "transaction()"):
            assert marker not in text, f"{path.relative_to(ROOT.parent)} holds {marker!r}"


def test_tenants_are_made_by_authentication():
    """`Member(...)` and `Association(...)` appear only where authentication makes them (and in
    the tenancy module itself, for the association acting for one member)."""
    makers = []
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Member", "Association")
            ):
                makers.append(str(path.relative_to(ROOT.parent)))
    assert sorted(set(makers)) == ["registry/auth/deps.py", "registry/core/tenancy.py"]
