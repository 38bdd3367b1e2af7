"""Every test here is an attack (`pytest.mark.attack`: passing means refused) or an injected
fault (`pytest.mark.fault`: passing means survived); the run's figures are printed at the end
(see ledger.py)."""

from __future__ import annotations

import pytest

from tests.adversarial.ledger import LEDGER, Ledger


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return LEDGER


# nodeid -> "attack" | "fault": the closest marker wins (a test marks itself apart from its module).
KIND: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/adversarial/" not in f"/{item.nodeid}":
            continue
        kind = next((m.name for m in item.iter_markers() if m.name in ("attack", "fault")), None)
        if kind is None:
            raise pytest.UsageError(f"{item.nodeid}: mark it attack or fault")
        KIND[item.nodeid] = kind


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = KIND.get(report.nodeid)
    if kind is None or (report.when != "call" and not report.failed):
        return
    if kind == "attack":
        LEDGER.attacks_tried += 1
        LEDGER.attacks_refused += report.passed
    else:
        LEDGER.faults_injected += 1
        LEDGER.faults_survived += report.passed


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if LEDGER.attacks_tried or LEDGER.faults_injected:
        terminalreporter.section("adversarial figures")
        for line in LEDGER.lines():
            terminalreporter.write_line(line)
