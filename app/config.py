"""One settings object read from the environment (see ``.env.example``)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass
class Settings:
    """Plaza's configuration, each field from the environment variable of the same name.

    ``ENV`` is ``development`` (default), ``production`` or ``test``. In production
    ``SECRET_KEY`` must be set; elsewhere a random one is used per process when absent.
    ``DATABASE_URL`` (the tenant role) needs ``PLATFORM_DATABASE_URL`` (the platform role) beside it.

    Raises:
        RuntimeError: ``SECRET_KEY`` missing in production, or ``DATABASE_URL`` without
            ``PLATFORM_DATABASE_URL``.
    """

    ENV: str = field(default_factory=lambda: os.environ.get("ENV", "development"))
    SECRET_KEY: str = field(default_factory=lambda: os.environ.get("SECRET_KEY", ""))
    PLATFORM_DOMAIN: str = field(default_factory=lambda: os.environ.get("PLATFORM_DOMAIN", "localhost"))
    DATABASE_URL: str = field(default_factory=lambda: os.environ.get("DATABASE_URL", ""))
    PLATFORM_DATABASE_URL: str = field(default_factory=lambda: os.environ.get("PLATFORM_DATABASE_URL", ""))
    REDIS_URL: str = field(default_factory=lambda: os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    SMTP_URL: str = field(default_factory=lambda: os.environ.get("SMTP_URL", "smtp://127.0.0.1:1025"))
    MAIL_FROM: str = field(default_factory=lambda: os.environ.get("MAIL_FROM", "bookings@plaza.example"))
    PREFERRED_URL_SCHEME: str = field(default_factory=lambda: os.environ.get("PREFERRED_URL_SCHEME", "http"))
    PUBLIC_PORT: int = field(default_factory=lambda: _int("PUBLIC_PORT", _int("PORT", 5000)))
    #: The web server's own port, when set; a Host naming it is accepted as well as PUBLIC_PORT.
    PORT: int | None = field(default_factory=lambda: _int("PORT", 0) or None)
    LOG_LEVEL: str = field(default_factory=lambda: os.environ.get("LOG_LEVEL", "INFO"))
    RATELIMIT_ENABLED: bool = field(default_factory=lambda: _bool("RATELIMIT_ENABLED", True))
    RATELIMIT_DEFAULT: str = field(default_factory=lambda: os.environ.get("RATELIMIT_DEFAULT", "300 per minute"))
    #: Reverse proxies in front of the web servers that append the client's address to
    #: ``X-Forwarded-For`` (0: none, the header is ignored so it cannot be forged).
    TRUSTED_PROXIES: int = field(default_factory=lambda: _int("TRUSTED_PROXIES", 0))
    BOOKING_LIMITS_PER_IP: str = field(
        default_factory=lambda: os.environ.get("BOOKING_LIMITS_PER_IP", "10 per hour;30 per day"))
    BOOKING_LIMITS_PER_EMAIL: str = field(
        default_factory=lambda: os.environ.get("BOOKING_LIMITS_PER_EMAIL", "5 per hour;15 per day"))
    GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM: int = field(
        default_factory=lambda: _int("GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM", 3))
    GUEST_CONFIRM_MINUTES: int = field(default_factory=lambda: _int("GUEST_CONFIRM_MINUTES", 30))
    MAIL_PER_RECIPIENT_PER_HOUR: int = field(default_factory=lambda: _int("MAIL_PER_RECIPIENT_PER_HOUR", 20))
    AVAILABILITY_CACHE_SECONDS: int = field(default_factory=lambda: _int("AVAILABILITY_CACHE_SECONDS", 300))
    DELIVERY_LEASE_SECONDS: int = field(default_factory=lambda: _int("DELIVERY_LEASE_SECONDS", 300))
    MANAGE_LINK_DAYS_AFTER: int = field(default_factory=lambda: _int("MANAGE_LINK_DAYS_AFTER", 30))
    PUSH_ALLOW_INSECURE: bool = field(default_factory=lambda: _bool("PUSH_ALLOW_INSECURE", False))
    SESSION_LIFETIME_DAYS: int = field(default_factory=lambda: _int("SESSION_LIFETIME_DAYS", 14))

    def __post_init__(self) -> None:
        if not self.SECRET_KEY:
            if self.ENV == "production":
                raise RuntimeError("SECRET_KEY must be set in production")
            self.SECRET_KEY = secrets.token_hex(32)
        if self.DATABASE_URL and not self.PLATFORM_DATABASE_URL:
            raise RuntimeError("PLATFORM_DATABASE_URL must be set with DATABASE_URL: the platform role's URL "
                               "(README, Deploying)")

    @property
    def is_production(self) -> bool:
        """True when ``ENV=production`` (Secure cookies, HSTS)."""
        return self.ENV == "production"

    def flask_config(self) -> dict[str, object]:
        """The Flask ``app.config`` mapping derived from these settings."""
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": self.DATABASE_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20},
            # The platform role's own pool (app.tenants.roles routes each transaction to one of them).
            "SQLALCHEMY_BINDS": {"platform": {"url": self.PLATFORM_DATABASE_URL or self.DATABASE_URL,
                                              "pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}},
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "PREFERRED_URL_SCHEME": self.PREFERRED_URL_SCHEME,
            "RATELIMIT_ENABLED": self.RATELIMIT_ENABLED,
            "RATELIMIT_STORAGE_URI": self.REDIS_URL,
            "RATELIMIT_HEADERS_ENABLED": True,
            # One shared budget per client IP over every route (app.extensions.global_limit).
            "RATELIMIT_GLOBAL": self.RATELIMIT_DEFAULT,
            "BOOKING_LIMITS_PER_IP": self.BOOKING_LIMITS_PER_IP,
            "BOOKING_LIMITS_PER_EMAIL": self.BOOKING_LIMITS_PER_EMAIL,
            "GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM": self.GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM,
            "GUEST_CONFIRM_MINUTES": self.GUEST_CONFIRM_MINUTES,
            "MAIL_PER_RECIPIENT_PER_HOUR": self.MAIL_PER_RECIPIENT_PER_HOUR,
            "WTF_CSRF_TIME_LIMIT": None,
            "TESTING": self.ENV == "test",
            "PLATFORM_DOMAIN": self.PLATFORM_DOMAIN,
            "REDIS_URL": self.REDIS_URL,
            "SMTP_URL": self.SMTP_URL,
            "MAIL_FROM": self.MAIL_FROM,
            "PUBLIC_PORT": self.PUBLIC_PORT,
            "PORT": self.PORT,
            "AVAILABILITY_CACHE_SECONDS": self.AVAILABILITY_CACHE_SECONDS,
            "DELIVERY_LEASE_SECONDS": self.DELIVERY_LEASE_SECONDS,
            "MANAGE_LINK_DAYS_AFTER": self.MANAGE_LINK_DAYS_AFTER,
            "PUSH_ALLOW_INSECURE": self.PUSH_ALLOW_INSECURE and not self.is_production,
            # Server-side sessions (Flask-Session on Redis, bound in app.identity.sessions.init_app).
            "SESSION_KEY_PREFIX": "plaza:session:",
            "SESSION_PERMANENT": True,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=self.SESSION_LIFETIME_DAYS),
            "SESSION_REFRESH_EACH_REQUEST": False,  # app.identity.sessions refreshes at most once a minute
        }
