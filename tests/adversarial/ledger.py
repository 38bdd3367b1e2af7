"""The adversarial suite's figures (docs/security.md, "Figures"): attacks tried and refused,
faults injected and survived, acknowledged writes checked and lost, and requests of bad input
with the server errors they drew. Tests are counted by their marker (`attack` or `fault`:
passed means refused or survived); the writes and bad-input figures are what the tests that
check them report through the `ledger` fixture. `make adversarial` prints them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Ledger:
    attacks_tried: int = 0
    attacks_refused: int = 0
    faults_injected: int = 0
    faults_survived: int = 0
    writes_acknowledged: int = 0
    writes_lost: int = 0
    bad_requests: int = 0
    server_errors: int = 0

    def writes(self, acknowledged: int, lost: int) -> None:
        self.writes_acknowledged += acknowledged
        self.writes_lost += lost

    def bad_input(self, requests: int, server_errors: int) -> None:
        self.bad_requests += requests
        self.server_errors += server_errors

    def lines(self) -> list[str]:
        return [
            f"attacks tried {self.attacks_tried}, refused {self.attacks_refused}",
            f"faults injected {self.faults_injected}, survived {self.faults_survived}",
            f"acknowledged writes checked {self.writes_acknowledged}, lost {self.writes_lost}",
            f"fuzzed requests (valid and malformed) {self.bad_requests}, answered 5xx {self.server_errors}",
        ]


LEDGER = Ledger()
