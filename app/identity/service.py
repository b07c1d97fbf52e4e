"""Accounts: password hashing (argon2), login checks, signed tokens for email links."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.identity.models import ApiToken, User
from app.timeutil import utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class AuthError(Exception):
    """Login failed: wrong email or password, or a suspended account (message is user-facing)."""


class TokenError(Exception):
    """A signed link is invalid or expired (message is user-facing)."""


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """True when ``password`` matches; rehashes in place when parameters changed."""
    if not user.password_hash:
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased email address."""
    return email.strip().lower()


def find_user(email: str) -> User | None:
    """The account with this email (case-insensitive), or ``None``."""
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def load_user(ident: str) -> User | None:
    """Flask-Login loader for ``<uuid>:<session_version>``; stale or suspended sessions get ``None``."""
    try:
        raw_id, raw_version = ident.split(":", 1)
        user = db.session.get(User, uuid.UUID(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != raw_version or user.suspended_at is not None:
        return None
    return user


def authenticate(email: str, password: str) -> User:
    """The user with these credentials.

    Raises:
        AuthError: unknown email, wrong password, or suspended account.
    """
    user = find_user(email)
    if user is None or not verify_password(user, password):
        raise AuthError("Wrong email or password.")
    if user.suspended_at is not None:
        raise AuthError("This account is suspended.")
    return user


def create_user(email: str, password: str | None, name: str = "") -> User:
    """Create and flush an account.

    Raises:
        ValueError: the email is already registered.
    """
    email = normalize_email(email)
    if find_user(email) is not None:
        raise ValueError("An account with this email already exists.")
    user = User(email=email, name=name, password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Change the password and end every other session (bumps ``session_version``)."""
    user.password_hash = hash_password(password)
    user.session_version += 1


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(purpose: str, data: dict) -> str:
    """A signed, timestamped URL-safe token for ``purpose`` carrying ``data``."""
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str, max_age_seconds: int) -> dict:
    """The data in a token made by :func:`make_token`.

    Raises:
        TokenError: bad signature, wrong purpose, or older than ``max_age_seconds``.
    """
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenError("This link has expired.") from exc
    except BadSignature as exc:
        raise TokenError("This link is not valid.") from exc


def password_reset_token(user: User) -> str:
    """Token for a password reset link; invalid once the password changes."""
    return make_token("password-reset", {"u": str(user.id), "v": user.session_version})


def user_from_reset_token(token: str, max_age_seconds: int = 3600) -> User:
    """The user a reset token was made for.

    Raises:
        TokenError: invalid, expired, or already used (password changed since).
    """
    data = read_token("password-reset", token, max_age_seconds)
    user = db.session.get(User, uuid.UUID(data["u"]))
    if user is None or user.session_version != data["v"]:
        raise TokenError("This link has already been used.")
    return user


def mark_email_verified(token: str) -> User:
    """Verify the email a verification token was made for.

    Raises:
        TokenError: invalid or expired (7 days) token.
    """
    data = read_token("verify-email", token, 7 * 24 * 3600)
    user = db.session.get(User, uuid.UUID(data["u"]))
    if user is None or user.email != data["e"]:
        raise TokenError("This link is not valid.")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def email_verification_token(user: User) -> str:
    """Token for the email verification link."""
    return make_token("verify-email", {"u": str(user.id), "e": user.email})


def create_api_token(name: str, created_by: uuid.UUID | None) -> tuple[ApiToken, str]:
    """Create a staff API token in the current tenant; returns the row and the secret (shown once)."""
    secret = "plz_" + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=hashlib.sha256(secret.encode()).hexdigest(), created_by=created_by)
    db.session.add(row)
    db.session.flush()
    return row, secret


def find_api_token(secret: str) -> ApiToken | None:
    """The live (not revoked) API token of the current tenant with this secret, or ``None``."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest,
                                                       ApiToken.revoked_at.is_(None)))
