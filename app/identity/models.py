"""People's accounts (platform-level) and per-tenant API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class User(UserMixin, db.Model):
    """A person's account: email (unique, lower-cased), argon2 password hash, flags.

    ``session_version`` is bumped on password change or "log out everywhere"; sessions
    carrying an older version are refused.
    """

    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    # Deferred: the tenant database role may not read it (app.identity.service.stored_password_hash).
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), deferred=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    is_platform_admin: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    suspended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    session_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    #: The language the person chose (Babel identifier: ``da``, ``en_GB``), ``None`` until they choose.
    locale: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    def get_id(self) -> str:
        """Flask-Login id: ``<uuid>:<session_version>`` so old sessions stop working."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """False once the account is suspended."""
        return self.suspended_at is None


class ApiToken(TenantScoped, db.Model):
    """A staff API token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "token_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
