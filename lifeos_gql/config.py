"""Settings, read once from the environment (and an optional ``.env``).

Every field's name is its environment variable (case-insensitive). A bad
value stops start-up with one line naming the variable: see
:func:`load_settings`.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lifeos_gql.core.errors import ConfigError


class Env(StrEnum):
    DEV = "dev"
    PROD = "prod"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


def _check_key_b64(value: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be base64 of 32 bytes") from exc
    if len(raw) != 32:
        raise ValueError(f"must be base64 of 32 bytes, got {len(raw)} bytes")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    lifeos_env: Env = Env.DEV
    lifeos_host: str = "127.0.0.1"
    lifeos_port: int = Field(default=8000, ge=1, le=65535)
    lifeos_data_dir: Path = Path(".lifeos")
    lifeos_cors_origins: CsvList = Field(default_factory=list)
    lifeos_log_level: str = "info"
    # Base of URLs handed out (share links); defaults to http://{host}:{port}.
    lifeos_public_url: str | None = None

    # Primary store: embedded Postgres (pgserver) when unset.
    database_url: str | None = None
    # The request path's login: the row-level-security role ``lifeos_app``
    # (no BYPASSRLS). Unset: DATABASE_URL with the user swapped for
    # lifeos_app and no password (the embedded server, trust/peer setups);
    # set it when lifeos_app logs in with a password.
    database_app_url: str | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    # Apply pending migrations at start-up (turn off to migrate as a deploy step).
    lifeos_auto_migrate: bool = True
    # Cross-process cache, rate limits and event fan-out; in-process when unset.
    redis_url: str | None = None

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_embedding_model: str = "text-embedding-3-small"

    pinecone_api_key: str | None = None
    pinecone_index_host: str | None = None

    clerk_issuer: str | None = None
    clerk_jwks_url: str | None = None
    clerk_authorized_parties: CsvList = Field(default_factory=list)
    # Svix signing secret of the Clerk webhook endpoint (whsec_...); POST
    # /v1/webhooks/clerk answers 503 while it is unset.
    clerk_webhook_secret: str | None = None

    # base64 of 32 random bytes; generated into the data dir in dev when unset.
    lifeos_master_key: str | None = None
    # Older master keys still accepted while `rotate-master-key` re-wraps data keys.
    lifeos_previous_master_keys: CsvList = Field(default_factory=list)

    # GraphQL guard rails.
    lifeos_max_query_depth: int = Field(default=12, ge=2, le=100)
    lifeos_max_query_tokens: int = Field(default=2000, ge=50, le=100_000)
    lifeos_max_aliases: int = Field(default=30, ge=1, le=1000)

    # Capture limits.
    lifeos_max_content_bytes: int = Field(default=1_000_000, ge=1_000)
    lifeos_max_payload_bytes: int = Field(default=1_000_000, ge=1_000)
    lifeos_max_batch_items: int = Field(default=5_000, ge=1)

    # Background jobs: procrastinate on the primary Postgres.
    # Run a worker inside `serve`. Unset: yes, except with LIFEOS_ENV=prod, where
    # workers are their own processes (`lifeos-gql worker`, scaled by count).
    lifeos_inprocess_worker: bool | None = None
    lifeos_worker_concurrency: int = Field(default=2, ge=1, le=64)
    # A worker whose heartbeat is older than this is presumed dead and its jobs re-run.
    lifeos_worker_stalled_seconds: float = Field(default=30.0, ge=0.5, le=3600)
    # How often the outbox sweeper looks for captures with no live job.
    lifeos_analysis_sweep_seconds: float = Field(default=30.0, ge=0.1, le=3600)
    # Captures per analysis job (and per analyser call).
    lifeos_analysis_batch_size: int = Field(default=16, ge=1, le=500)
    # Runs per capture before it is marked FAILED (transient errors and crashes count).
    lifeos_analysis_max_attempts: int = Field(default=6, ge=1, le=100)
    # Exponential backoff with jitter between retries: base * 2**attempt, capped.
    lifeos_analysis_retry_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    lifeos_analysis_retry_max_seconds: float = Field(default=600.0, gt=0, le=86_400)

    # Live subscriptions (graphql-transport-ws on /graphql).
    # Event fan-out between processes: auto = Redis with REDIS_URL, else Postgres NOTIFY.
    lifeos_event_bus: Literal["auto", "redis", "postgres", "inprocess"] = "auto"
    # Subscriptions one WebSocket may hold, and one user may hold in one process.
    lifeos_ws_max_subscriptions_per_connection: int = Field(default=50, ge=1, le=10_000)
    lifeos_ws_max_subscriptions_per_user: int = Field(default=500, ge=1, le=1_000_000)
    # Events buffered per subscription; a consumer this far behind is closed (1013).
    lifeos_ws_queue_size: int = Field(default=256, ge=1, le=100_000)
    # Server graphql-transport-ws pings (keep-alive through proxies); 0 turns them off.
    lifeos_ws_ping_seconds: float = Field(default=15.0, ge=0, le=3600)
    # A connection must send connection_init within this many seconds (else 4408).
    lifeos_ws_init_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    # How often idle connections' API tokens are re-checked; a revoked one is
    # closed (4403). Every event is checked before delivery regardless; 0 turns
    # the periodic check off.
    lifeos_ws_credential_recheck_seconds: float = Field(default=15.0, ge=0, le=3600)

    _split = field_validator(
        "lifeos_cors_origins",
        "clerk_authorized_parties",
        "lifeos_previous_master_keys",
        mode="before",
    )(_split_csv)

    @field_validator("database_url", "database_app_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(
            ("postgresql://", "postgres://", "postgresql+psycopg://")
        ):
            raise ValueError("must be a postgresql:// URL")
        return value or None

    @field_validator("lifeos_public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else None

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value or None

    @field_validator("lifeos_master_key")
    @classmethod
    def _check_master_key(cls, value: str | None) -> str | None:
        if not value:
            return None
        _check_key_b64(value)
        return value

    @field_validator("lifeos_previous_master_keys")
    @classmethod
    def _check_previous_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            _check_key_b64(key)
        return value

    @model_validator(mode="after")
    def _check_prod(self) -> Settings:
        if self.lifeos_env is Env.PROD:
            missing = [
                name
                for name in ("database_url", "clerk_issuer", "lifeos_master_key")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(
                    "LIFEOS_ENV=prod requires " + ", ".join(m.upper() for m in missing)
                )
        return self

    @property
    def is_prod(self) -> bool:
        return self.lifeos_env is Env.PROD

    @property
    def public_base_url(self) -> str:
        """Where clients reach this server (LIFEOS_PUBLIC_URL, else http://host:port)."""
        return self.lifeos_public_url or f"http://{self.lifeos_host}:{self.lifeos_port}"

    @property
    def run_inprocess_worker(self) -> bool:
        """Whether ``serve`` runs a job worker (LIFEOS_INPROCESS_WORKER, else not in prod)."""
        if self.lifeos_inprocess_worker is not None:
            return self.lifeos_inprocess_worker
        return not self.is_prod

    @property
    def effective_clerk_jwks_url(self) -> str | None:
        if self.clerk_jwks_url:
            return self.clerk_jwks_url
        if self.clerk_issuer:
            return self.clerk_issuer.rstrip("/") + "/.well-known/jwks.json"
        return None


def load_settings(**overrides: Any) -> Settings:
    """Read settings once; raise ``ConfigError`` with a one-line message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "settings"
        name = loc.upper() if first["loc"] else "LIFEOS_ENV"
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {name}: {msg}") from None
