"""Accounts: password hashing (argon2), login checks, signed tokens for email links."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.audit.service import record_audit, request_actor
from app.errors import InputError
from app.extensions import db
from app.identity.models import ApiToken, User
from app.redis_client import get_redis
from app.tenants.roles import platform_read
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


def stored_password_hash(user: User) -> str | None:
    """``user``'s password hash: as set or loaded in this session, else read through the
    platform database role (the tenant role may not select the column)."""
    state = sa.inspect(user)
    if "password_hash" not in state.unloaded or state.key is None:
        return user.password_hash
    with platform_read("verify a password") as conn:
        return conn.scalar(sa.select(User.password_hash).where(User.id == user.id))


def verify_password(user: User, password: str) -> bool:
    """True when ``password`` matches; rehashes in place when parameters changed."""
    stored = stored_password_hash(user)
    if not stored:
        return False
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(stored):
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
        raise AuthError(_("Wrong email or password."))
    if user.suspended_at is not None:
        raise AuthError(_("This account is suspended."))
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
        raise TokenError(_("This link has expired.")) from exc
    except BadSignature as exc:
        raise TokenError(_("This link is not valid.")) from exc


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
        raise TokenError(_("This link has already been used."))
    return user


def mark_email_verified(token: str) -> User:
    """Verify the email a verification token was made for.

    Raises:
        TokenError: invalid or expired (7 days) token.
    """
    data = read_token("verify-email", token, 7 * 24 * 3600)
    user = db.session.get(User, uuid.UUID(data["u"]))
    if user is None or user.email != data["e"]:
        raise TokenError(_("This link is not valid."))
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
    record_audit(request_actor(), "api_token.created", "api_token", row.id, after={"name": name})
    return row, secret


def find_api_token(secret: str) -> ApiToken | None:
    """The live (not revoked) API token of the current tenant with this secret, or ``None``."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest,
                                                       ApiToken.revoked_at.is_(None)))


class AccountError(InputError, ValueError):
    """Account input rejected; ``field`` names the form field at fault, ``message`` is user-facing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def check_password_strength(password: str) -> None:
    """Accept a new password of at least :data:`MIN_PASSWORD_LENGTH` characters.

    Raises:
        AccountError: with ``field='password'`` when too short.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError("password", _("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH))


def register_account(email: str, password: str, name: str) -> User:
    """Create a new (unverified) account; flushes, does not commit.

    Raises:
        AccountError: ``field='password'`` too short; ``field='email'`` already registered.
    """
    check_password_strength(password)
    if find_user(email) is not None:
        raise AccountError("email", _("An account with this email already exists. Log in, or reset your password."))
    return create_user(email, password, name.strip())


#: Business signup with an email whose password did not match (says nothing about the account).
SIGNUP_PASSWORD_REFUSED = _l("We could not sign you up with this email and password. If you have a Plaza account "
                             "with this email, enter its password (or reset it first); otherwise use another email.")


def account_for_signup(email: str, password: str, name: str) -> tuple[User, bool]:
    """The owner account for a business signup: the existing account when ``password`` is
    its password, else a newly registered one. Returns ``(user, created)``; flushes.

    Raises:
        AccountError: ``field='password'`` too short for a new account, or not the password of
            the existing (or suspended) one. The message never says whether the email has an
            account: only a caller who knows its password learns anything.
    """
    existing = find_user(email)
    if existing is None:
        return register_account(email, password, name), True
    try:
        user = authenticate(email, password)
    except AuthError as exc:
        raise AccountError("password", str(SIGNUP_PASSWORD_REFUSED)) from exc
    return user, False


HANDOFF_SECONDS = 120


def handoff_token(user: User, tenant_id: uuid.UUID | None) -> str:
    """A one-time token (valid :data:`HANDOFF_SECONDS`) that logs ``user`` in on the host of
    ``tenant_id`` (``None`` for the apex); carries the user's ``session_version``."""
    return make_token("handoff", {"u": str(user.id), "v": user.session_version,
                                  "t": str(tenant_id) if tenant_id else "", "n": secrets.token_hex(8)})


def user_from_handoff_token(token: str, tenant_id: uuid.UUID | None) -> User:
    """The user a handoff token was made for, consuming the token (it works once).

    Raises:
        TokenError: invalid, expired, made for another host, already used, stale
            (password changed since) or the account is suspended.
    """
    data = read_token("handoff", token, HANDOFF_SECONDS)
    if data.get("t") != (str(tenant_id) if tenant_id else ""):
        raise TokenError(_("This link is not valid here."))
    try:
        user = db.session.get(User, uuid.UUID(data["u"]))
    except (KeyError, ValueError) as exc:
        raise TokenError(_("This link is not valid.")) from exc
    if user is None or user.session_version != data.get("v") or user.suspended_at is not None:
        raise TokenError(_("This link is not valid."))
    digest = hashlib.sha256(token.encode()).hexdigest()
    if not get_redis().set(f"plaza:handoff-used:{digest}", "1", nx=True, ex=HANDOFF_SECONDS + 10):
        raise TokenError(_("This link has already been used."))
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; ends every session of the account.

    Raises:
        TokenError: the link is invalid, expired or already used.
        AccountError: ``field='password'`` too short.
    """
    user = user_from_reset_token(token)
    check_password_strength(password)
    set_password(user, password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the reset link proved the mailbox
    db.session.flush()
    return user
