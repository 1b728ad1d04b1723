"""Runtime settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "vermilion-development-secret-change-me"
MIN_SECRET_KEY_LENGTH = 32
# Keys anyone can read, compared without case or punctuation: the development default, the fallback an
# older docker-compose.yml shipped, and what templates and tutorials paste in. Whoever knows the key can
# sign a token for any account.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        DEFAULT_SECRET_KEY,
        "change-me-to-a-long-random-string-of-32-chars+",
        "changeme",
        "secret",
        "secretkey",
        "mysecret",
        "supersecret",
        "password",
        "default",
        "example",
        "placeholder",
        "test",
        "vermilion",
    }
)
# Words that mark a value as a placeholder wherever they appear in it ("please-change-me-…").
PLACEHOLDER_WORDS = ("changeme", "changethis", "replaceme", "placeholder", "yoursecret")
_GENERATE_ONE = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
DEFAULT_DATABASE_URL = f"sqlite://{Path('data') / 'vermilion.sqlite3'}"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


# A page served from this machine: http(s)://localhost, 127.0.0.1 or [::1], any port.
LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


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
    # Creators' payouts may be sent as Stripe Connect transfers (`vermilion payouts transfer`) to creators
    # with a connected account: the platform's Stripe account must have Connect enabled.
    connect_payouts: bool = Field(False, validation_alias=AliasChoices("VERMILION_CONNECT_PAYOUTS"))
    # How long checkout holds stock for an unpaid order, and how often expired holds are swept (0: never,
    # e.g. when a separate `vermilion sweep-reservations` job does it).
    reservation_minutes: int = Field(15, validation_alias=AliasChoices("VERMILION_RESERVATION_MINUTES"), gt=0)
    sweep_interval_seconds: float = Field(
        60, validation_alias=AliasChoices("VERMILION_SWEEP_INTERVAL_SECONDS"), ge=0
    )
    # How long a worker keeps the discovery feed's trending pool (the same for every viewer) before
    # working it out again; 0: every first page reads it itself (feed/trending.py).
    feed_trending_seconds: float = Field(
        30, validation_alias=AliasChoices("VERMILION_FEED_TRENDING_SECONDS"), ge=0
    )
    # Bearer tokens expire; a week matches what mobile clients expect before re-login.
    token_ttl_seconds: int = Field(
        7 * 24 * 3600, validation_alias=AliasChoices("VERMILION_TOKEN_TTL_SECONDS"), gt=0
    )
    # Outgoing email (password resets): smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465.
    # Unset: development logs each message; production keeps them in the outbox, unsent, until it is set.
    smtp_url: str | None = Field(None, validation_alias=AliasChoices("VERMILION_SMTP_URL"))
    mail_from: str = Field(
        "Vermilion <no-reply@vermilion.dev>", validation_alias=AliasChoices("VERMILION_MAIL_FROM")
    )
    # The page of the frontend that finishes a password reset; `{token}` is replaced by the reset token.
    password_reset_url: str = Field(
        "http://localhost:3000/reset-password?token={token}",
        validation_alias=AliasChoices("VERMILION_PASSWORD_RESET_URL"),
        pattern=r"\{token\}",
    )
    # A reset link works once, within this time (SECURITY.md: 1 h).
    password_reset_ttl_seconds: int = Field(
        3600, validation_alias=AliasChoices("VERMILION_PASSWORD_RESET_TTL_SECONDS"), gt=0
    )
    max_body_bytes: int = Field(1_000_000, validation_alias=AliasChoices("VERMILION_MAX_BODY_BYTES"), gt=0)
    # Argon2 (64 MiB and ≈ 0.4 s a hash) runs in this many processes of each server worker's own, so its
    # memory is never the worker's; 0: in threads of the worker (social/passwords.py).
    password_processes: int = Field(
        1, validation_alias=AliasChoices("VERMILION_PASSWORD_PROCESSES"), ge=0, le=64
    )
    # Python's cycle collector in a server worker: how many new container objects start a young-generation
    # pass (Python's default is 700; 0 keeps it). What the worker holds once started is frozen out of
    # every pass (api/collector.py).
    gc_threshold: int = Field(
        10_000, validation_alias=AliasChoices("VERMILION_GC_THRESHOLD"), ge=0, le=1_000_000
    )
    # Wall-clock budget of one HTTP request: past it the work is cancelled (its transaction rolls back)
    # and the client gets 503 with a TIMEOUT error, so no request can hold a worker for minutes.
    request_timeout_seconds: float = Field(
        10, validation_alias=AliasChoices("VERMILION_REQUEST_TIMEOUT_SECONDS"), gt=0
    )
    # PostgreSQL only (0: no limit). A statement running longer is cancelled by the server itself, even
    # when the request that sent it is gone; a row lock waited on longer fails fast instead of holding a
    # pool connection while it waits.
    statement_timeout_seconds: float = Field(
        10, validation_alias=AliasChoices("VERMILION_STATEMENT_TIMEOUT_SECONDS"), ge=0
    )
    lock_timeout_seconds: float = Field(
        3, validation_alias=AliasChoices("VERMILION_LOCK_TIMEOUT_SECONDS"), ge=0
    )
    # PostgreSQL connections per worker, and how long a request waits for one before it is answered
    # SERVICE_UNAVAILABLE (503) instead of queueing behind a saturated pool.
    db_pool_size: int = Field(10, validation_alias=AliasChoices("VERMILION_DB_POOL_SIZE"), gt=0)
    db_pool_timeout_seconds: float = Field(
        3, validation_alias=AliasChoices("VERMILION_DB_POOL_TIMEOUT_SECONDS"), gt=0
    )
    # PostgreSQL's planner cost of reading a page out of order, for the server's connections (0: the
    # database server's own). Its default, 4, prices a spinning disk; a database read from memory or SSD
    # is nearer 1.1, and with 4 the following feed read every note of every followed person (api/db.py).
    db_random_page_cost: float = Field(
        1.1, validation_alias=AliasChoices("VERMILION_DB_RANDOM_PAGE_COST"), ge=0, le=100
    )
    # How long a stopping server waits for requests in flight and for its own clean-up.
    shutdown_timeout_seconds: float = Field(
        15, validation_alias=AliasChoices("VERMILION_SHUTDOWN_TIMEOUT_SECONDS"), gt=0
    )
    # Count SQL statements per request: reported in the response `extensions` (development), the access
    # log and the metrics.
    sql_count_extension: bool | None = Field(None, validation_alias=AliasChoices("VERMILION_SQL_COUNT"))
    # Serve GraphiQL (GET /graphql in a browser, and its assets). Unset: on in development, off in
    # production, where it would show every stranger a ready-made console for the API.
    graphiql_override: bool | None = Field(None, validation_alias=AliasChoices("VERMILION_GRAPHIQL"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("VERMILION_LOG_LEVEL"))
    # "json": one JSON object per log line, for log shippers; "text": the `request_id=` lines of api/logs.py.
    log_format: Literal["text", "json"] = Field("text", validation_alias=AliasChoices("VERMILION_LOG_FORMAT"))
    # One log line per GraphQL HTTP request (operation, viewer, status, duration, SQL statements, cost, error
    # codes). Unset: with JSON logs only, so that text logs stay as they were.
    access_log_override: bool | None = Field(None, validation_alias=AliasChoices("VERMILION_ACCESS_LOG"))
    # Prometheus metrics at GET /metrics; with a token, only for `Authorization: Bearer <token>`.
    # Off unless asked for: when on, every request is timed and counted (and its SQL statements too).
    metrics: bool = Field(False, validation_alias=AliasChoices("VERMILION_METRICS"))
    metrics_token: str | None = Field(None, validation_alias=AliasChoices("VERMILION_METRICS_TOKEN"))
    # Browser origins of web frontends, comma-separated (e.g. "https://app.example.com"): allowed by CORS
    # and for WebSocket subscriptions. Empty: same-origin only.
    # Media (README "Media"). Where uploads and processed files live: "local" (files under media_root,
    # uploaded to and served by this app: the embedded default) or "s3" (any S3-compatible service).
    media_storage: Literal["local", "s3"] = Field(
        "local", validation_alias=AliasChoices("VERMILION_MEDIA_STORAGE")
    )
    media_root: Path = Field(Path("data") / "media", validation_alias=AliasChoices("VERMILION_MEDIA_ROOT"))
    # The address clients reach this app at, for the upload and file URLs of local storage.
    public_base_url: str = Field(
        "http://127.0.0.1:8000", validation_alias=AliasChoices("VERMILION_PUBLIC_BASE_URL")
    )
    s3_bucket: str = Field("vermilion-media", validation_alias=AliasChoices("VERMILION_S3_BUCKET"))
    s3_endpoint_url: str | None = Field(None, validation_alias=AliasChoices("VERMILION_S3_ENDPOINT_URL"))
    # The address clients send uploads to, when it differs from the one this app reaches storage at (a
    # container network): upload URLs are signed for it. Unset: the endpoint.
    s3_presign_endpoint_url: str | None = Field(
        None, validation_alias=AliasChoices("VERMILION_S3_PRESIGN_ENDPOINT_URL")
    )
    s3_region: str = Field("us-east-1", validation_alias=AliasChoices("VERMILION_S3_REGION"))
    s3_access_key_id: str | None = Field(None, validation_alias=AliasChoices("VERMILION_S3_ACCESS_KEY_ID"))
    s3_secret_access_key: str | None = Field(
        None, validation_alias=AliasChoices("VERMILION_S3_SECRET_ACCESS_KEY")
    )
    # Where clients download processed files from (a CDN, or the bucket's public address). Unset: the
    # endpoint and bucket, path-style.
    s3_public_url: str | None = Field(None, validation_alias=AliasChoices("VERMILION_S3_PUBLIC_URL"))
    # Limits (MEDIA.md): bytes and pixels of an image, bytes and seconds of a video.
    media_max_image_bytes: int = Field(
        20_000_000, validation_alias=AliasChoices("VERMILION_MEDIA_MAX_IMAGE_BYTES"), gt=0
    )
    media_max_image_pixels: int = Field(
        50_000_000, validation_alias=AliasChoices("VERMILION_MEDIA_MAX_IMAGE_PIXELS"), gt=0
    )
    media_max_video_bytes: int = Field(
        200_000_000, validation_alias=AliasChoices("VERMILION_MEDIA_MAX_VIDEO_BYTES"), gt=0
    )
    media_max_video_seconds: float = Field(
        900, validation_alias=AliasChoices("VERMILION_MEDIA_MAX_VIDEO_SECONDS"), gt=0
    )
    # How long an upload ticket works, and how long an upload or a processed picture may stay unattached to
    # a note, an avatar or a product before the sweep deletes it.
    media_upload_ttl_seconds: int = Field(
        3600, validation_alias=AliasChoices("VERMILION_MEDIA_UPLOAD_TTL_SECONDS"), gt=0
    )
    media_orphan_hours: float = Field(24, validation_alias=AliasChoices("VERMILION_MEDIA_ORPHAN_HOURS"), gt=0)
    # Background jobs (media processing) run in each server process unless this is false, e.g. when
    # `vermilion worker` processes run them from Redis on machines of their own.
    jobs_in_process: bool = Field(True, validation_alias=AliasChoices("VERMILION_JOBS_IN_PROCESS"))
    # Caches Vermilion may rebuild at will (jieba's prefix dictionary: 0.5 s to build, 50 ms to load).
    cache_dir: Path = Field(Path("data") / "cache", validation_alias=AliasChoices("VERMILION_CACHE_DIR"))
    allowed_origins_csv: str = Field("", validation_alias=AliasChoices("VERMILION_ALLOWED_ORIGINS"))
    # Frontends served from this machine (http://localhost:3000, http://127.0.0.1:5173, …) as well. Unset:
    # allowed in development, so a frontend's dev server works out of the box; not in production.
    local_origins_override: bool | None = Field(
        None, validation_alias=AliasChoices("VERMILION_ALLOW_LOCAL_ORIGINS")
    )
    # The most one operation may cost (Shopify's model, see schema/cost.py); more is QUERY_TOO_COSTLY.
    query_cost_budget: int = Field(1000, validation_alias=AliasChoices("VERMILION_QUERY_COST_BUDGET"), gt=0)
    # The cost bucket each client draws from (per user signed in, else per IP): its size, and the points
    # it restores per second. Figures from SECURITY.md.
    cost_bucket_size: int = Field(2000, validation_alias=AliasChoices("VERMILION_COST_BUCKET_SIZE"), gt=0)
    cost_restore_rate: int = Field(100, validation_alias=AliasChoices("VERMILION_COST_RESTORE_RATE"), gt=0)
    cost_restore_rate_anonymous: int = Field(
        50, validation_alias=AliasChoices("VERMILION_COST_RESTORE_RATE_ANONYMOUS"), gt=0
    )
    # Rate limits in the `limits` notation ("10/5minutes"; several separated by ";"). Write points are
    # Bluesky's (create 3, update 2, delete 1, likes and follows 1), per user, else per IP.
    write_limits: str = Field("5000/hour;35000/day", validation_alias=AliasChoices("VERMILION_WRITE_LIMITS"))
    sign_in_limits_per_email: str = Field(
        "10/5minutes", validation_alias=AliasChoices("VERMILION_SIGN_IN_LIMITS_PER_EMAIL")
    )
    sign_in_limits_per_ip: str = Field(
        "30/5minutes", validation_alias=AliasChoices("VERMILION_SIGN_IN_LIMITS_PER_IP")
    )
    sign_up_limits_per_ip: str = Field(
        "5/30minutes", validation_alias=AliasChoices("VERMILION_SIGN_UP_LIMITS_PER_IP")
    )
    # Uploads started (mediaUploadCreate) per signed-in person (SECURITY.md: Mastodon's 30 per 30 minutes).
    media_upload_limits_per_user: str = Field(
        "30/30minutes", validation_alias=AliasChoices("VERMILION_MEDIA_UPLOAD_LIMITS_PER_USER")
    )
    # Reports filed per signed-in person (reportCreate), and moderators' own decisions (moderationAction,
    # appealResolve; DISMISS counts), tiered by role.
    report_limits_per_user: str = Field(
        "30/hour", validation_alias=AliasChoices("VERMILION_REPORT_LIMITS_PER_USER")
    )
    moderation_limits_per_moderator: str = Field(
        "60/hour", validation_alias=AliasChoices("VERMILION_MODERATION_LIMITS_PER_MODERATOR")
    )
    moderation_limits_per_admin: str = Field(
        "300/hour", validation_alias=AliasChoices("VERMILION_MODERATION_LIMITS_PER_ADMIN")
    )
    password_reset_limits_per_email: str = Field(
        "5/30minutes", validation_alias=AliasChoices("VERMILION_PASSWORD_RESET_LIMITS_PER_EMAIL")
    )
    password_reset_limits_per_ip: str = Field(
        "25/5minutes", validation_alias=AliasChoices("VERMILION_PASSWORD_RESET_LIMITS_PER_IP")
    )
    # Rate-limit keys start with this, so that several deployments (or test runs) can share one Redis.
    rate_limit_prefix: str = Field("vermilion", validation_alias=AliasChoices("VERMILION_RATE_LIMIT_PREFIX"))
    # Persisted queries (core/persisted.py): how long a text sent once by a client stays known by its hash,
    # and a manifest of trusted operations — when set, no other operation runs.
    apq_ttl_seconds: int = Field(
        7 * 24 * 3600, validation_alias=AliasChoices("VERMILION_APQ_TTL_SECONDS"), gt=0
    )
    trusted_documents: Path | None = Field(None, validation_alias=AliasChoices("VERMILION_TRUSTED_DOCUMENTS"))
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated); from anyone
    # else the header is ignored, or a client could pick the address it is counted under.
    trusted_proxies_csv: str = Field("", validation_alias=AliasChoices("VERMILION_TRUSTED_PROXIES"))

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.is_production:
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ValueError(f"{problem}; {_GENERATE_ONE}")
        return self

    @property
    def allowed_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins_csv.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def access_log(self) -> bool:
        if self.access_log_override is not None:
            return self.access_log_override
        return self.log_format == "json"

    @property
    def count_sql(self) -> bool:
        """VERMILION_SQL_COUNT when set; else on in development and wherever metrics or access lines report
        the count (about 5 µs per statement)."""
        if self.sql_count_extension is not None:
            return self.sql_count_extension
        return not self.is_production or self.metrics or self.access_log

    @property
    def allowed_origin_regex(self) -> str | None:
        """Origins on this machine, any port, when they are allowed (see `local_origins_override`)."""
        local = (
            self.local_origins_override if self.local_origins_override is not None else not self.is_production
        )
        return LOCAL_ORIGINS if local else None

    @property
    def graphiql(self) -> bool:
        """Whether GraphiQL is served: VERMILION_GRAPHIQL when set, else in development only."""
        if self.graphiql_override is not None:
            return self.graphiql_override
        return not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def secret_key_problem(secret: str) -> str | None:
    """Why a token-signing key is unfit for production, or None when it will do."""
    plain = "".join(ch for ch in secret.casefold() if ch.isalnum())
    published = {"".join(ch for ch in key.casefold() if ch.isalnum()) for key in PUBLISHED_SECRET_KEYS}
    if not plain or plain in published or any(word in plain for word in PLACEHOLDER_WORDS):
        return (
            "VERMILION_SECRET_KEY must be set to a private value when VERMILION_ENV=production "
            "(this one is published or a placeholder)"
        )
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        return f"VERMILION_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters in production"
    # Length alone is no strength: "aaaa…" or "abc123abc123…" is guessed long before a random key.
    repeats_itself = any(secret[period:] == secret[:-period] for period in range(1, len(secret) // 2 + 1))
    if len(set(secret)) < 8 or repeats_itself:
        return (
            "VERMILION_SECRET_KEY is too easy to guess "
            "(a repeated pattern, or fewer than 8 different characters)"
        )
    return None
