"""Deployment settings, read from the environment (and `.env`)."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32  # a key for HMAC-SHA256 and session signing: no shorter than its output


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "staging", "production"] = "development"
    # Owner connection: runs migrations and admin commands. Unset -> embedded PostgreSQL (pgserver).
    database_url: str | None = None
    # Connection of the running application: a role without BYPASSRLS. Unset -> derived from
    # database_url with the `rouptimize_app` role created by the migrations.
    app_database_url: str | None = None
    app_database_password: str | None = None
    redis_url: str | None = None
    data_dir: Path = Field(default=Path(".rouptimize"), validation_alias="ROUPTIMIZE_DATA_DIR")

    token_hash_secret: str | None = None
    session_secret: str | None = None
    webhook_signing_secret: str | None = None
    session_ttl_seconds: int = 12 * 3600

    rate_limit_per_second: float = 50.0
    rate_limit_burst: int = 100
    # Credential checks (sign-in, driver sign-in, invite codes): per account, and per client address.
    credential_attempts_per_account: int = Field(default=10, ge=1)  # at once, then one per 12 s
    credential_attempts_per_address: int = Field(default=30, ge=1)  # at once, then one per 2 s
    max_body_bytes: int = 5 * 1024 * 1024
    # GraphQL cost (app/graphql/cost.py): an operation costing more than `graphql_max_cost` is
    # refused before it runs; the rest draw on a per-caller budget of `graphql_cost_budget` points,
    # restored at `graphql_cost_restore_per_second`.
    graphql_max_cost: int = Field(default=10_000, ge=1)
    graphql_cost_budget: int = Field(default=50_000, ge=1)
    graphql_cost_restore_per_second: float = Field(default=5_000.0, gt=0)
    # Automatic persisted queries (app/graphql/persisted.py): documents kept in Redis, each for this
    # long after its last use, at most this many (the least recently used go first).
    graphql_persisted_ttl_seconds: int = Field(default=30 * 86_400, ge=60)
    graphql_persisted_max_documents: int = Field(default=5_000, ge=1)
    db_pool_size: int = 10
    idempotency_ttl_hours: int = 24
    log_level: str = "INFO"

    # Travel-time model of the default matrix provider: great-circle distance x detour factor,
    # driven at an average speed.
    detour_factor: float = Field(default=1.3, ge=1.0)
    average_speed_kmh: float = Field(default=30.0, gt=0)
    osrm_url: str | None = None

    # One delivery attempt, connection to last byte read (at most 64 KiB of the answer are read).
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # Delays before each attempt (Standard Webhooks' schedule: the first at once, the last about
    # 2.5 days after it), each with +-10 % jitter; after the last one the delivery has failed.
    webhook_retry_schedule_seconds: str = "0,5,300,1800,7200,18000,36000,50400,72000,86400"
    # An endpoint failing without a single success for this long is disabled (`failing`).
    webhook_disable_after_seconds: int = Field(default=5 * 86_400, ge=60)
    # Lifts the rule that every address a webhook URL names or resolves to is public: for
    # development and tests with receivers on this machine, never for production.
    webhook_allow_private_networks: bool = False
    # The events feed shows events this long after they were written: an event's id is taken when
    # it is written, and a transaction still open then may commit an earlier id after a later one
    # was read; waiting out the app's (short) transactions means paging with `after` skips nothing.
    events_feed_settle_seconds: float = Field(default=5.0, ge=0)
    # Events whose fan-out has not run after this long are re-sent by the sweeper.
    webhook_sweep_after_seconds: int = Field(default=60, ge=1)
    # Optimization jobs still queued after this long are handed to the workers again (their
    # message was lost); jobs whose progress has not moved for the second are run again, once (their
    # worker died: a live one records progress every second), then failed.
    optimization_resend_after_seconds: int = Field(default=120, ge=1)
    optimization_rerun_after_seconds: int = Field(default=60, ge=30)
    # Processes (per API or worker process) that run solves, beside the event loop's own.
    solver_processes: int = Field(default=2, ge=1)
    # Route-optimization engine behind app/optimization/vrp.py (bench/optimizer.py compares them).
    optimizer_engine: Literal["pyvrp", "ortools"] = "pyvrp"
    # Runs the whole deployment this far ahead of (or behind) the machine's clock, to try it on
    # another day: every rule that reads "now" reads the shifted clock (app/core/clock.py).
    clock_offset_seconds: float = 0.0

    # Prometheus metrics (app/core/metrics.py). A bearer secret every /metrics asks for when set; in
    # production the public API port serves /metrics only with one.
    metrics_token: str | None = None
    # A listener of its own for the API's metrics (off the public port), and the workers' listener;
    # both on metrics_host. Unset: the API serves /metrics on its own port, a worker serves none.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)

    @field_validator("metrics_token", "metrics_port", "worker_metrics_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker compose passes an unset `${METRICS_TOKEN:-}` on as an empty string.
        return None if value == "" else value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def token_prefix(self) -> str:
        return "rpt_live_" if self.is_production else "rpt_test_"

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        # A production deployment must never fall back to generated development secrets: tokens
        # hashed with a throw-away key would stop working on the next restart.
        if self.is_production:
            missing = [
                name
                for name in ("token_hash_secret", "session_secret", "webhook_signing_secret")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"production requires {', '.join(s.upper() for s in missing)}")
            short = [
                name.upper()
                for name in ("token_hash_secret", "session_secret", "webhook_signing_secret")
                if len(str(getattr(self, name)).encode()) < MIN_SECRET_BYTES
            ]
            if short:
                names = ", ".join(short)
                raise ValueError(f"{names} must be at least {MIN_SECRET_BYTES} bytes in production")
            if self.webhook_allow_private_networks:
                raise ValueError("WEBHOOK_ALLOW_PRIVATE_NETWORKS may not be set in production")
            if self.metrics_token is not None and len(self.metrics_token.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"METRICS_TOKEN must be at least {MIN_SECRET_BYTES} bytes in production")
            if self.clock_offset_seconds:
                raise ValueError(
                    "CLOCK_OFFSET_SECONDS is for trying a deployment on another day, not production"
                )
        return self

    @property
    def webhook_retry_delays(self) -> list[float]:
        """`webhook_retry_schedule_seconds` as numbers: the delay before attempt 1, 2, ..."""
        return [float(part) for part in self.webhook_retry_schedule_seconds.split(",") if part.strip()]

    @model_validator(mode="after")
    def _cost_budget_holds_one_operation(self) -> Settings:
        # Otherwise an operation under the per-request limit could never be afforded.
        if self.graphql_cost_budget < self.graphql_max_cost:
            raise ValueError("GRAPHQL_COST_BUDGET must be at least GRAPHQL_MAX_COST")
        return self

    @model_validator(mode="after")
    def _schedule_is_numbers(self) -> Settings:
        try:
            delays = self.webhook_retry_delays
        except ValueError:
            raise ValueError("WEBHOOK_RETRY_SCHEDULE_SECONDS must be comma-separated seconds") from None
        if not delays or any(d < 0 for d in delays):
            raise ValueError("WEBHOOK_RETRY_SCHEDULE_SECONDS must list at least one delay, none negative")
        return self

    def secret(self, name: Literal["token_hash_secret", "session_secret", "webhook_signing_secret"]) -> bytes:
        """The configured secret, or outside production one generated once and kept in the data dir,
        so the API, the worker and the admin commands of one deployment agree on it."""
        value = getattr(self, name)
        if value:
            return str(value).encode()
        return _dev_secret(self.data_dir, name)


@lru_cache
def _dev_secret(data_dir: Path, name: str) -> bytes:
    """Read (or make) a development secret once per process: token checks need it on every request."""
    path = data_dir / "dev-secrets.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(32)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored[name].encode()


@lru_cache
def get_settings() -> Settings:
    return Settings()
