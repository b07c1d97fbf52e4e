"""Plaza's settings: every environment variable Plaza reads, documented and validated in one class.

:class:`Settings` is a ``pydantic-settings`` class; each field is read from the environment
variable of the same name (case-sensitive; an empty value counts as unset). :func:`load_settings`
builds it and turns a validation failure into :class:`SettingsError`, whose message names each
offending variable. ``create_app`` calls it first, so a bad value stops start-up.

In production (``ENV=production``) the variables in :data:`REQUIRED_IN_PRODUCTION` must be set;
elsewhere they have development defaults (embedded servers, a random ``SECRET_KEY`` per process).

Code that runs inside an app context reads ``current_app.config`` (filled by
:meth:`Settings.flask_config`, which tests may override); :func:`current_settings` and
:func:`settings_str` give the same values outside one. ``.env.example`` and the README's table
list every variable.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Literal

from flask import current_app, has_app_context
from limits import parse_many
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Variables that must be set (non-empty) when ``ENV=production``.
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "DATABASE_URL", "PLATFORM_DATABASE_URL", "REDIS_URL", "SMTP_URL",
                          "PLATFORM_DOMAIN")
_BOOLEAN_WORDS = {"1", "0", "true", "false", "yes", "no", "on", "off"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(RuntimeError):
    """The environment holds a missing or invalid setting; the message names each variable and why."""


class UnknownSetting(KeyError):
    """A setting was asked for by a name :class:`Settings` does not define (a typo in the code)."""


class Settings(BaseSettings):
    """Plaza's configuration, each field from the environment variable of the same name.

    Build it with :func:`load_settings` (which raises :class:`SettingsError`); constructing it
    directly raises pydantic's ``ValidationError``.
    """

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore",
                                      validate_default=False)

    # --- core --------------------------------------------------------------------------------
    ENV: Literal["development", "production", "test"] = Field(
        "development", description="development, production or test. production requires the variables in "
                                   "REQUIRED_IN_PRODUCTION and turns on Secure cookies and HSTS.")
    SECRET_KEY: str = Field("", description="Signs sessions, CSRF tokens and email links (at least 16 characters). "
                                            "Required in production; elsewhere a random key per process.")
    PLATFORM_DOMAIN: str = Field("localhost", description="Apex domain; businesses live at <slug>.<PLATFORM_DOMAIN>. "
                                                          "The host of every absolute link. Required in production.")
    DATABASE_URL: str = Field("", description="PostgreSQL 15+ URL of the tenant role (not the table owner, no "
                                              "BYPASSRLS). Unset: make run / make test start an embedded PostgreSQL.")
    PLATFORM_DATABASE_URL: str = Field("", description="URL of the platform role (apex, signup, jobs spanning "
                                                       "businesses), its own pool. Required with DATABASE_URL.")
    MIGRATION_DATABASE_URL: str = Field("", description="URL of the owner role used by `flask db upgrade` "
                                                        "(default DATABASE_URL).")
    DATABASE_POOLER: Literal["", "pgbouncer"] = Field(
        "", description="pgbouncer: DATABASE_URL and PLATFORM_DATABASE_URL go through PgBouncer in transaction "
                        "pooling mode, so no server-side prepared statements are used. Empty: direct connections.")
    REDIS_URL: str = Field("redis://127.0.0.1:6379/0", description="Redis for the RQ queue, rate limits, the "
                                                                  "availability cache, sessions and Socket.IO.")
    SMTP_URL: str = Field("smtp://127.0.0.1:1025", description="Outgoing mail: smtp://user:pass@host:port "
                                                               "(?starttls=1, or smtps:// for TLS).")
    MAIL_FROM: str = Field("bookings@plaza.example", description="Sender address of booking emails.")
    PREFERRED_URL_SCHEME: Literal["http", "https"] = Field("http", description="Scheme of absolute links.")
    PORT: int | None = Field(None, ge=1, le=65535, description="The web server's own port (make run, Procfile); a "
                                                               "Host naming it is accepted as well as PUBLIC_PORT.")
    PUBLIC_PORT: int | None = Field(None, ge=1, le=65535, description="The port people reach Plaza on (default PORT, "
                                                                      "then 5000); used in absolute links.")
    RELEASE: str = Field("", description="Names the release the service worker serves (its caches and /sw.js "
                                         "change with it); default: a hash of the static files at start-up.")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Level of Plaza's JSON logs.")
    RQ_LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "WARNING", description="Log level of RQ's own worker logs.")
    WEB_THREADS: int = Field(100, ge=1, description="Threads of the single gunicorn worker in the Procfile (each "
                                                    "open WebSocket holds one); read by the Procfile's shell.")
    SOCKETIO_ASYNC_MODE: Literal["threading", "gevent"] | None = Field(
        None, description="Socket.IO async mode; detected when unset.")

    # --- limits ------------------------------------------------------------------------------
    RATELIMIT_ENABLED: bool = Field(True, description="false switches off every rate limit (browser tests only).")
    RATELIMIT_DEFAULT: str = Field("300 per minute", description="Budget every client IP shares over all routes "
                                                                 "(limits notation).")
    TRUSTED_PROXIES: int = Field(0, ge=0, description="Reverse proxies in front of Plaza that append the client to "
                                                      "X-Forwarded-For (0: none, the header is ignored).")
    BOOKING_LIMITS_PER_IP: str = Field("10 per hour;30 per day", description="Public bookings per client IP "
                                                                             "(';' separates limits).")
    BOOKING_LIMITS_PER_EMAIL: str = Field("5 per hour;15 per day", description="Public bookings per customer email.")
    GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM: int = Field(3, ge=0, description="Open bookings a guest email may hold at a "
                                                                         "business before it confirms the next ones.")
    GUEST_CONFIRM_MINUTES: int = Field(30, ge=1, description="Minutes a guest has to confirm such a booking.")
    MAIL_PER_RECIPIENT_PER_HOUR: int = Field(20, ge=1, description="Emails one address may receive per hour; over "
                                                                   "it the delivery is logged as skipped.")
    AVAILABILITY_CACHE_SECONDS: int = Field(300, ge=0, description="Seconds an availability result stays cached.")
    AVAILABILITY_WARM_AFTER_CHANGE: bool = Field(True, description="true: after a change to a business's "
                                                 "availability a job recomputes and caches its popular ranges "
                                                 "(each service, any staff, 14 days from today); off under "
                                                 "ENV=test.")
    DELIVERY_LEASE_SECONDS: int = Field(300, ge=1, description="Seconds a worker may hold a claimed delivery before "
                                                               "another takes the send over.")
    REMINDER_LEASE_SECONDS: int = Field(30, ge=1, description="Seconds a due reminder stays handed to a batch job "
                                                              "(renewed while it runs) before it is handed out again.")
    MANAGE_LINK_DAYS_AFTER: int = Field(30, ge=0, description="Days after a booking's end its manage link works.")
    SESSION_LIFETIME_DAYS: int = Field(14, ge=1, description="Days a login session (in Redis) lives without "
                                                             "activity.")
    PLAZA_RELAY_INTERVAL: int = Field(5, ge=1, description="Seconds between outbox relay runs (worker).")
    PLAZA_SWEEP_INTERVAL: int = Field(60, ge=1, description="Seconds between reminder / stale delivery sweeps.")
    PLAZA_TRANSITIONS_INTERVAL: int = Field(300, ge=1, description="Seconds between automatic booking transitions.")
    WORKER_PROCESSES: int = Field(1, ge=1, le=64, description="Worker processes one `python worker.py` runs "
                                                              "(RQ's worker pool, which restarts one that dies); "
                                                              "about one per core of the machine.")
    WORKER_FORK_PER_JOB: bool = Field(False, description="true: the worker forks a work horse per job (RQ's "
                                                         "Worker); false: jobs run in the worker process itself "
                                                         "(RQ's SimpleWorker), each in a fresh app context.")

    # --- files ----------------------------------------------------------------------------------
    MEDIA_ROOT: str = Field("var/media", description="Folder of uploaded files (business logos) for the local "
                                                     "storage (app.storage); relative to the working directory.")
    MEDIA_MAX_UPLOAD_BYTES: int = Field(5_000_000, ge=1024, description="Largest accepted upload (a logo), in "
                                                                       "bytes.")
    STORAGE_URL: str = Field("", description="Where files are stored: empty for the local folder MEDIA_ROOT, or "
                                             "s3://bucket/prefix for an S3-compatible store (boto3).")
    S3_ENDPOINT_URL: str = Field("", description="Endpoint of the S3-compatible store (empty: AWS's own).")
    S3_REGION: str = Field("us-east-1", description="Region of the S3 bucket.")
    S3_ACCESS_KEY_ID: str = Field("", description="Access key of the S3 store (empty: boto3's usual credential "
                                                  "chain).")
    S3_SECRET_ACCESS_KEY: str = Field("", description="Secret key of the S3 store.")
    MEDIA_PUBLIC_URL: str = Field("", description="Base URL of public files in the S3 store or its CDN "
                                                  "(https://cdn.example.com/media); empty: /media/<key> on Plaza.")
    PRIVATE_URL_SECONDS: int = Field(900, ge=10, description="Seconds a signed URL of a private file is valid.")
    PHOTO_MAX_PIXELS: int = Field(25_000_000, ge=10_000, description="Largest accepted photo, in pixels "
                                                                     "(width x height).")
    GALLERY_MAX_PHOTOS: int = Field(12, ge=1, le=50, description="Photos a business's gallery may hold.")

    # --- maps and places ---------------------------------------------------------------------
    GEOCODER: Literal["offline", "nominatim"] = Field(
        "offline", description="offline: the packaged gazetteer (city centres, US ZIPs, UK outward codes, Danish "
                               "postcodes); nominatim: the Nominatim-compatible API at GEOCODER_URL.")
    GEOCODER_URL: str = Field("https://nominatim.openstreetmap.org", description="Base URL of the Nominatim-"
                                                                                 "compatible API (its /search).")
    GEOCODER_CONTACT: str = Field("", description="Contact (email or URL) sent in the geocoder's User-Agent "
                                                  "(default MAIL_FROM).")
    GEOCODER_CACHE_SECONDS: int = Field(30 * 24 * 3600, ge=0, description="Seconds a geocoding answer stays "
                                                                          "cached in Redis.")
    MAP_TILE_URL: str = Field("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                              description="Leaflet tile URL template; empty: maps show no tiles (the pin and "
                                          "the lat/lon fields still work).")
    MAP_ATTRIBUTION: str = Field("© OpenStreetMap contributors", description="Attribution shown on maps for "
                                                                               "MAP_TILE_URL's tiles.")
    SITEMAP_PAGE_SIZE: int = Field(50_000, ge=1, le=50_000, description="URLs per sitemap file; above it "
                                                                        "/sitemap.xml is a sitemap index.")

    # --- marketplace (apex search) ----------------------------------------------------------------
    MARKETPLACE_RATING_PRIOR_MEAN: float = Field(4.0, ge=1, le=5, description="Search ranking: the stars a business "
                                                 "is assumed to have before its reviews (Bayesian rating prior).")
    MARKETPLACE_RATING_PRIOR_WEIGHT: float = Field(10.0, ge=0, description="Search ranking: how many reviews the "
                                                   "prior weighs (one 5-star review must not beat 200 at 4.8).")

    # --- Stripe and billing --------------------------------------------------------------------
    STRIPE_SECRET_KEY: str = Field("", description="Stripe secret key; unset: every business on Free, payments "
                                                   "hidden.")
    STRIPE_API_BASE: str = Field("", description="API base for the Stripe SDK (tests: a local localstripe).")
    STRIPE_MODE: Literal["", "local"] = Field("", description="local: Checkout, Prices, portal and Connect "
                                                              "onboarding use Plaza's local stand-ins.")
    STRIPE_CONNECT: Literal["", "stripe", "local"] = Field("", description="Connect onboarding (default local with "
                                                                           "STRIPE_MODE=local or STRIPE_API_BASE).")
    STRIPE_TEST_PAYMENTS: str = Field("", description="Show the test-card pay button (a boolean word; default on in "
                                                      "local mode or with an sk_test_ key).")
    STRIPE_PUBLISHABLE_KEY: str = Field("", description="Publishable key (pk_...) for the Stripe.js card form.")
    STRIPE_JS_URL: str = Field("", description="Where Stripe.js is loaded from (default https://js.stripe.com/v3/).")
    STRIPE_PRICE_PRO: str = Field("", description="Stripe price id of the Pro plan.")
    STRIPE_PRICE_PREMIUM: str = Field("", description="Stripe price id of the Premium plan.")
    BILLING_TRIAL_DAYS_PRO: int | None = Field(None, ge=0, description="Trial days of Pro (default: the plan's).")
    BILLING_TRIAL_DAYS_PREMIUM: int | None = Field(None, ge=0, description="Trial days of Premium (default: the "
                                                                           "plan's).")
    BILLING_GRACE_DAYS: int = Field(7, ge=0, description="Days a past-due subscription keeps its paid features.")
    STRIPE_WEBHOOK_SECRET: str = Field("", description="Webhook signing secret.")
    STRIPE_WEBHOOK_SECRET_PREVIOUS: str = Field("", description="The previous signing secret during a rotation.")
    STRIPE_CONNECT_WEBHOOK_SECRET: str = Field("", description="Signing secret of a separate Connect endpoint.")

    # --- notifications -----------------------------------------------------------------------
    VAPID_PUBLIC_KEY: str = Field("", description="Web push public key (flask --app wsgi notifications vapid-keys).")
    VAPID_PRIVATE_KEY: str = Field("", description="Web push private key.")
    VAPID_SUBJECT: str = Field("", description="Web push contact (default mailto:admin@plaza.example).")
    SMS_PROVIDER: Literal["log", "twilio"] = Field("log", description="SMS through a logging provider or Twilio.")
    TWILIO_ACCOUNT_SID: str = Field("", description="Twilio account SID (SMS_PROVIDER=twilio).")
    TWILIO_AUTH_TOKEN: str = Field("", description="Twilio auth token.")
    TWILIO_FROM: str = Field("", description="Twilio sender number.")
    TWILIO_API_BASE: str = Field("https://api.twilio.com", description="Twilio API base URL.")
    NOTIFY_DEDUP_WINDOW_SECONDS: int = Field(300, ge=0, description="Seconds within which repeats of one "
                                                                    "notification type and subject fold into one.")
    PUSH_ALLOW_INSECURE: bool = Field(False, description="Allow http:// push endpoints (ignored in production).")

    DEMO_ADMIN_TOTP_SECRET: str = Field("PLAZADEMOADMINTOTPSECRETABCDEFGH", description="seed-demo only: the "
                                        "base32 TOTP secret of the demo's admin@plaza.test (never used otherwise).")

    # --- tests and tools (read by the test suite, never needed to run Plaza) -------------------
    PLAZA_SCREENSHOTS: bool = Field(False, description="Tests only: write e2e screenshots to docs/screenshots/ "
                                                       "(make screenshots) instead of a temporary folder.")
    CHROMIUM_PATH: str = Field("", description="Tests only: browser for the end-to-end tests.")

    @field_validator("LOG_LEVEL", "RQ_LOG_LEVEL", "SMS_PROVIDER", "PREFERRED_URL_SCHEME", "ENV", mode="before")
    @classmethod
    def _normalise_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if value.upper() in _LOG_LEVELS else value.lower()

    @field_validator("DATABASE_URL", "PLATFORM_DATABASE_URL", "MIGRATION_DATABASE_URL")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must be a postgresql:// or postgresql+psycopg:// URL")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("SMTP_URL")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if not value.startswith(("smtp://", "smtps://")):
            raise ValueError("must be an smtp:// or smtps:// URL")
        return value

    @field_validator("RATELIMIT_DEFAULT", "BOOKING_LIMITS_PER_IP", "BOOKING_LIMITS_PER_EMAIL")
    @classmethod
    def _limits(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit in the limits notation (e.g. '10 per hour;30 per day'): {exc}") from exc
        return value

    @field_validator("STRIPE_TEST_PAYMENTS")
    @classmethod
    def _boolean_word(cls, value: str) -> str:
        if value and value.strip().lower() not in _BOOLEAN_WORDS:
            raise ValueError(f"must be one of {', '.join(sorted(_BOOLEAN_WORDS))}")
        return value

    @model_validator(mode="after")
    def _production_and_defaults(self) -> Settings:
        if self.ENV == "production":
            missing = [name for name in REQUIRED_IN_PRODUCTION if name not in self.model_fields_set]
            if missing:
                raise ValueError(f"required in production but not set: {', '.join(missing)}")
            if len(self.SECRET_KEY) < 16:
                raise ValueError("SECRET_KEY must be at least 16 characters in production")
        elif not self.SECRET_KEY:
            self.SECRET_KEY = secrets.token_hex(32)
        if self.DATABASE_URL and not self.PLATFORM_DATABASE_URL:
            raise ValueError("PLATFORM_DATABASE_URL must be set with DATABASE_URL: the platform role's URL "
                             "(README, Deploying)")
        if self.PUBLIC_PORT is None:
            self.PUBLIC_PORT = self.PORT or 5000
        return self

    @property
    def is_production(self) -> bool:
        """True when ``ENV=production`` (Secure cookies, HSTS)."""
        return self.ENV == "production"

    def pooler_options(self) -> dict[str, object]:
        """Engine options for :attr:`DATABASE_POOLER`: behind PgBouncer's transaction pooling (1.18
        keeps no prepared statements across transactions), psycopg must not prepare statements."""
        return {"connect_args": {"prepare_threshold": None}} if self.DATABASE_POOLER == "pgbouncer" else {}

    def flask_config(self) -> dict[str, object]:
        """The Flask ``app.config`` mapping derived from these settings (every application setting
        under its own name, plus Flask's and the extensions' keys derived from them)."""
        own = self.model_dump(exclude={"ENV", "RATELIMIT_DEFAULT", "SESSION_LIFETIME_DAYS", "WEB_THREADS",
                                       "RQ_LOG_LEVEL", "LOG_LEVEL", "TRUSTED_PROXIES", "CHROMIUM_PATH",
                                       "PLAZA_SCREENSHOTS", "MIGRATION_DATABASE_URL",
                                       "DATABASE_URL", "PLATFORM_DATABASE_URL"})
        return {
            **own,
            "SQLALCHEMY_DATABASE_URI": self.DATABASE_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20,
                                          **self.pooler_options()},
            # The platform role's own pool (app.tenants.roles routes each transaction to one of them).
            "SQLALCHEMY_BINDS": {"platform": {"url": self.PLATFORM_DATABASE_URL or self.DATABASE_URL,
                                              "pool_pre_ping": True, "pool_size": 5, "max_overflow": 10,
                                              **self.pooler_options()}},
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "RATELIMIT_STORAGE_URI": self.REDIS_URL,
            "RATELIMIT_HEADERS_ENABLED": True,
            # One shared budget per client IP over every route (app.extensions.global_limit).
            "RATELIMIT_GLOBAL": self.RATELIMIT_DEFAULT,
            "WTF_CSRF_TIME_LIMIT": None,
            "TESTING": self.ENV == "test",
            "AVAILABILITY_WARM_AFTER_CHANGE": self.AVAILABILITY_WARM_AFTER_CHANGE and self.ENV != "test",
            "PUSH_ALLOW_INSECURE": self.PUSH_ALLOW_INSECURE and not self.is_production,
            # Server-side sessions (Flask-Session on Redis, bound in app.identity.sessions.init_app).
            "SESSION_KEY_PREFIX": "plaza:session:",
            "SESSION_PERMANENT": True,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=self.SESSION_LIFETIME_DAYS),
            "SESSION_REFRESH_EACH_REQUEST": False,  # app.identity.sessions refreshes at most once a minute
        }


def load_settings(**overrides: Any) -> Settings:
    """Read and validate :class:`Settings` from the environment (``overrides`` win, for tests).

    Raises:
        SettingsError: a variable is missing (in production) or invalid; the message names each one,
            e.g. ``"Invalid settings: PORT: Input should be a valid integer (got 'abc')"``.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            given = f" (got {error['input']!r})" if error["loc"] and isinstance(error["input"], str | int) else ""
            if name == "settings" or not error["loc"]:
                problems.append(error["msg"].removeprefix("Value error, "))
            else:
                problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}{given}")
        raise SettingsError("Invalid settings: " + "; ".join(problems)) from None


def current_settings() -> Settings:
    """The current app's :class:`Settings` inside an app context, else freshly read from the environment.

    Raises:
        SettingsError: outside an app context, when the environment holds an invalid setting.
    """
    if has_app_context():
        settings = current_app.extensions.get("plaza_settings")
        if isinstance(settings, Settings):
            return settings
    return load_settings()


def config_str(name: str, default: str = "") -> str:
    """Setting ``name`` as text: the running app's ``config`` when it holds a non-empty value
    (inside an app context; tests and ``create_app(config=…)`` override settings there), else
    :func:`settings_str`.

    Raises:
        UnknownSetting: ``name`` is not a field of :class:`Settings` (and not in the app config).
    """
    if has_app_context():
        value = current_app.config.get(name)
        if value not in (None, ""):
            return str(value)
    return settings_str(name, default)


def settings_str(name: str, default: str = "") -> str:
    """Setting ``name`` of :func:`current_settings` as text, or ``default`` when it is unset or empty.

    Raises:
        UnknownSetting: ``name`` is not a field of :class:`Settings`.
    """
    if name not in Settings.model_fields:
        raise UnknownSetting(name)
    value = getattr(current_settings(), name)
    return default if value in (None, "") else str(value)
