"""Service settings: one pydantic-settings object read from `REGISTRY_*` variables and `.env`."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class LogFormat(StrEnum):
    json = "json"
    text = "text"


class Settings(BaseSettings):
    """Every setting the service and the CLI read; `docs/configuration.md` lists them all."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    database_url: str | None = Field(
        default=None,
        description="asyncpg URL of PostgreSQL >= 15; unset starts an embedded PostgreSQL under data_dir",
    )
    data_dir: Path = Path(".registry")
    database_request_url: str | None = Field(
        default=None,
        description="URL of the request login (row-level security binds it; it must not be able to become the "
        "owning role); unset: REGISTRY_DATABASE_URL's server and database, logging in as REGISTRY_DATABASE_ROLE",
    )
    database_role: str | None = Field(
        default="registry_app", description="Role requests run as (row-level security applies), and its login name"
    )
    database_system_role: str | None = Field(
        default="registry_owner", description="Role of the service's background work and association-wide reads"
    )
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=10, ge=1)

    # Keys: inline (hex or PEM) or a file. Generated under data_dir/keys in development.
    server_key: SecretStr | None = None
    server_key_file: Path | None = None
    hashing_key: SecretStr | None = None
    hashing_key_file: Path | None = None
    jwt_private_key: SecretStr | None = None
    jwt_keys_dir: Path | None = None

    public_url: str | None = Field(
        default=None, description="The service's external base URL; its /oauth/token is a valid assertion audience"
    )
    issuer: str = "urn:borrower-registry"
    audience: str = "urn:borrower-registry:api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    clock_skew_seconds: int = Field(default=30, ge=0, le=30)
    audit_seal_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often each process seals new audit rows into a signed checkpoint (0: never)",
    )
    key_refresh_seconds: float = Field(default=5.0, ge=0, description="How often workers look for rotated signing keys")

    max_body_bytes: int = Field(default=2_000_000, ge=1024)

    # Quotas: a member's own quota (set by admins) wins over these defaults.
    default_exposure_per_minute: int = Field(
        default=60_000, ge=1, description="Exposure subjects per minute per member"
    )
    default_writes_per_second: int = Field(default=50, ge=1, description="Write requests per second per member")
    token_failures_per_client: int = Field(
        default=10, ge=1, description="Failed token requests per (client id, client address) pair per window"
    )
    token_failures_per_address: int = Field(
        default=1000, ge=1, description="Failed token requests per client address per window, whatever the client id"
    )
    token_failure_window_seconds: int = Field(default=300, ge=10)

    # Webhook deliveries (registry/monitoring/delivery.py): each process runs a worker that
    # claims due outbox rows every poll interval (0 disables the loop; a pass can still be run).
    webhook_poll_seconds: float = Field(default=2.0, ge=0, le=300)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # Retention (registry/retention/scheduler.py): each process checks hourly and the day's pass
    # runs once across all of them; off, passes run only on demand (CLI or admin API).
    retention_daily: bool = True
    # Dispute deadlines (registry/disputes/notifications.py): reminders to lenders that have not
    # answered, and the association told of overdue disputes; each alert is raised once across processes.
    dispute_check_seconds: float = Field(
        default=600.0, ge=0, description="How often each process checks dispute deadlines (0: never)"
    )
    stats_rollup_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often each process rolls up the inquiries of closed days for the statistics (0: never)",
    )
    log_level: str = "INFO"
    log_format: LogFormat = Field(default=LogFormat.json, description="json: one object per line; text: for humans")
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at GET /metrics")
    lean_routes: bool = Field(
        default=True,
        description="Answer exposure queries and vehicle checks without FastAPI's routing and dependency solving "
        "(the same contract, less CPU per request); false sends them the way every other route goes",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxies trusted to say who the client is (X-Forwarded-For, X-Forwarded-Proto): comma-separated "
        "addresses or networks, or *; empty: the connecting peer is the client",
    )
    client_assertion_max_lifetime_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="Longest a private_key_jwt assertion may still live when it arrives"
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        # uvicorn would take a mistyped address as a literal host name and silently trust nothing.
        for entry in filter(None, (part.strip() for part in value.split(","))):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(f"forwarded_allow_ips: {entry!r} is not an address, a network or *") from None
        return value

    # Publishing the audit checkpoint head to members (registry/audit/publishing.py).
    audit_publish_seconds: float = Field(
        default=86_400.0,
        ge=0,
        description="How often the latest signed audit checkpoint is put in every active member's alert feed "
        "(0: never)",
    )
    # The database going away (registry/core/db.py, registry/core/embedded.py): a connect that
    # takes longer fails, and the request waiting on it answers 503 instead of hanging.
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # An upload whose connection died with the database is failed, with how far it got, by
    # this periodic pass (also run at start-up), so its job does not stay `receiving`.
    upload_recovery_seconds: float = Field(default=60.0, ge=0, description="0: only at start-up")
    # Uploads (registry/uploads/limits.py): what stops one file from stalling a worker or filling the disk.
    upload_max_decompressed_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="A gzip upload that grows past this many bytes once decompressed fails"
    )
    upload_max_bad_line_share: float = Field(
        default=0.5, gt=0, le=1, description="An upload whose blank and rejected lines pass this share fails (1: never)"
    )
    upload_bad_line_share_after: int = Field(
        default=10_000, ge=1, description="Lines read before the share of blank and rejected lines is judged"
    )
    upload_max_stored_errors: int = Field(
        default=10_000, ge=0, description="Rejected lines kept in an upload's error report (all are counted)"
    )

    # The staff console (registry/console/): sessions and the sign-in throttle.
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60, description="A console session ends unused")
    console_absolute_hours: int = Field(default=12, ge=1, le=72, description="A console session ends this old")
    console_failures_per_account: int = Field(default=5, ge=1, description="Failed sign-ins per account per window")
    console_failures_per_address: int = Field(
        default=50, ge=1, description="Failed sign-ins per client address per window, whatever the account"
    )
    console_failure_window_seconds: int = Field(default=900, ge=60)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env is not Environment.production:
            return self
        missing = []
        if not self.database_url:
            missing.append("REGISTRY_DATABASE_URL")
        if not (self.server_key or self.server_key_file):
            missing.append("REGISTRY_SERVER_KEY or REGISTRY_SERVER_KEY_FILE")
        if not (self.jwt_private_key or self.jwt_keys_dir):
            missing.append("REGISTRY_JWT_PRIVATE_KEY or REGISTRY_JWT_KEYS_DIR")
        if missing:
            raise ValueError("production refuses to start without: " + ", ".join(missing))
        if self.server_key is not None:
            check_not_default_secret("REGISTRY_SERVER_KEY", self.server_key.get_secret_value())
        if self.hashing_key is not None:
            check_not_default_secret("REGISTRY_HASHING_KEY", self.hashing_key.get_secret_value())
        return self

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


# Values that appear in docs and examples; a production key equal to one of them is a mistake.
DEFAULT_SECRETS = frozenset({"0" * 64, "change-me", "changeme", "secret", "dev", "development"})


def check_not_default_secret(name: str, value: str) -> None:
    stripped = value.strip().lower()
    if stripped in DEFAULT_SECRETS or len(set(stripped)) <= 2:
        raise ValueError(f"{name} is a default or placeholder value; set a real key in production")


@lru_cache
def get_settings() -> Settings:
    return Settings()
