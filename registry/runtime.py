"""What one worker holds for its whole life: settings, keys, the pools, the context prover,
the token and credential services, the webhook worker, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import Request

from registry.config import Settings
from registry.core.db import Database
from registry.core.keys import KeyRing
from registry.core.subjects import SubjectKeyer
from registry.core.tenancy import ContextProver

if TYPE_CHECKING:  # these import the runtime themselves
    from registry.auth.credentials import CredentialStatus
    from registry.auth.tokens import TokenService
    from registry.monitoring.delivery import DeliveryWorker


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keys: KeyRing
    prover: ContextProver
    tokens: TokenService
    credentials: CredentialStatus
    clock: Callable[[], datetime] = field(default=utc_now)
    deliveries: DeliveryWorker | None = None
    subjects: SubjectKeyer = field(init=False)

    def __post_init__(self) -> None:
        self.subjects = SubjectKeyer(self.keys.server_key)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime
