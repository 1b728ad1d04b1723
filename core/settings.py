"""Runtime settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "vermilion-development-secret-change-me"
DEFAULT_DATABASE_URL = f"sqlite://{Path('data') / 'vermilion.sqlite3'}"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything the app reads from its environment; see README "Configuration"."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias=AliasChoices("VERMILION_DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=AliasChoices("VERMILION_REDIS_URL"))
    secret_key: str = Field(DEFAULT_SECRET_KEY, validation_alias=AliasChoices("VERMILION_SECRET_KEY"))
    env: Environment = Field(Environment.DEVELOPMENT, validation_alias=AliasChoices("VERMILION_ENV"))
    stripe_api_key: str | None = Field(None, validation_alias=AliasChoices("STRIPE_API_KEY"))
    stripe_webhook_secret: str | None = Field(None, validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET"))
    stripe_api_base: str | None = Field(None, validation_alias=AliasChoices("STRIPE_API_BASE"))
    # How long checkout holds stock for an unpaid order, and how often expired holds are swept (0: never,
    # e.g. when a separate `vermilion sweep-reservations` job does it).
    reservation_minutes: int = Field(15, validation_alias=AliasChoices("VERMILION_RESERVATION_MINUTES"), gt=0)
    sweep_interval_seconds: float = Field(
        60, validation_alias=AliasChoices("VERMILION_SWEEP_INTERVAL_SECONDS"), ge=0
    )
    # Bearer tokens expire; a week matches what mobile clients expect before re-login.
    token_ttl_seconds: int = Field(
        7 * 24 * 3600, validation_alias=AliasChoices("VERMILION_TOKEN_TTL_SECONDS"), gt=0
    )
    max_body_bytes: int = Field(1_000_000, validation_alias=AliasChoices("VERMILION_MAX_BODY_BYTES"), gt=0)
    # Count SQL statements per request and report them in the response `extensions`.
    sql_count_extension: bool | None = Field(None, validation_alias=AliasChoices("VERMILION_SQL_COUNT"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("VERMILION_LOG_LEVEL"))
    # Browser origins of web frontends, comma-separated (e.g. "https://app.example.com"): allowed by CORS
    # and for WebSocket subscriptions. Empty: same-origin only.
    # Caches Vermilion may rebuild at will (jieba's prefix dictionary: 0.5 s to build, 50 ms to load).
    cache_dir: Path = Field(Path("data") / "cache", validation_alias=AliasChoices("VERMILION_CACHE_DIR"))
    allowed_origins_csv: str = Field("", validation_alias=AliasChoices("VERMILION_ALLOWED_ORIGINS"))

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.is_production and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "VERMILION_SECRET_KEY must be set to a private value when VERMILION_ENV=production"
            )
        if self.is_production and len(self.secret_key) < 32:
            raise ValueError("VERMILION_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def allowed_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins_csv.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def count_sql(self) -> bool:
        if self.sql_count_extension is not None:
            return self.sql_count_extension
        return not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
