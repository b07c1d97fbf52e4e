"""One settings object read from the environment (see ``.env.example``)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field


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
    LOG_LEVEL: str = field(default_factory=lambda: os.environ.get("LOG_LEVEL", "INFO"))
    RATELIMIT_ENABLED: bool = field(default_factory=lambda: _bool("RATELIMIT_ENABLED", True))
    AVAILABILITY_CACHE_SECONDS: int = field(default_factory=lambda: _int("AVAILABILITY_CACHE_SECONDS", 300))
    DELIVERY_LEASE_SECONDS: int = field(default_factory=lambda: _int("DELIVERY_LEASE_SECONDS", 300))

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
            "WTF_CSRF_TIME_LIMIT": None,
            "TESTING": self.ENV == "test",
            "PLATFORM_DOMAIN": self.PLATFORM_DOMAIN,
            "REDIS_URL": self.REDIS_URL,
            "SMTP_URL": self.SMTP_URL,
            "MAIL_FROM": self.MAIL_FROM,
            "PUBLIC_PORT": self.PUBLIC_PORT,
            "AVAILABILITY_CACHE_SECONDS": self.AVAILABILITY_CACHE_SECONDS,
            "DELIVERY_LEASE_SECONDS": self.DELIVERY_LEASE_SECONDS,
        }
