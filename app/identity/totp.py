"""Platform admins' second factor: TOTP (RFC 6238, :mod:`pyotp`) and one-time recovery codes.

An admin has at most one :class:`AdminTotp`: a base32 secret, ``confirmed_at`` once a code from
the authenticator app was accepted (enrolment done), and ``last_step``, the 30-second time step
of the last accepted code, so the same code (or an older one) is never accepted twice. Ten
recovery codes are made at enrolment, shown once, stored as argon2 hashes; each works once.

These tables are platform-only (the tenant database role has no grant): call these functions on
the platform role (the apex, inside ``platform_scope``, or CLI). Functions flush, never commit.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.identity.models import User
from app.timeutil import utcnow

#: Seconds per TOTP step; codes one step before or after now are accepted (clock drift).
STEP_SECONDS = 30
DRIFT_STEPS = 1
#: How many recovery codes an enrolment makes.
RECOVERY_CODES = 10
#: Issuer shown in the authenticator app.
ISSUER = "Plaza admin"

_hasher = PasswordHasher()


class AdminTotp(db.Model):
    """A platform admin's TOTP secret (base32), when enrolment was confirmed (tz-aware UTC,
    ``None`` while pending) and the last accepted time step (Unix time // 30)."""

    __tablename__ = "admin_totp"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               primary_key=True)
    secret: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class AdminRecoveryCode(db.Model):
    """One recovery code of a platform admin: its argon2 hash and when it was used (``None``: unused)."""

    __tablename__ = "admin_recovery_code"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


def totp_of(user_id: uuid.UUID) -> AdminTotp | None:
    """The admin's TOTP record (pending or confirmed), or ``None``."""
    return db.session.get(AdminTotp, user_id)


def is_enrolled(user_id: uuid.UUID) -> bool:
    """True when the admin has a confirmed second factor."""
    record = totp_of(user_id)
    return record is not None and record.confirmed_at is not None


def start_enrolment(user: User, secret: str | None = None) -> AdminTotp:
    """A pending TOTP record for ``user`` with a new random secret (or ``secret``, base32, e.g.
    the demo's fixed one); an earlier record and its recovery codes are replaced. The admin
    confirms it with :func:`confirm_enrolment`."""
    db.session.execute(sa.delete(AdminRecoveryCode).where(AdminRecoveryCode.user_id == user.id))
    record = totp_of(user.id)
    if record is None:
        record = AdminTotp(user_id=user.id, secret="")
        db.session.add(record)
    record.secret, record.confirmed_at, record.last_step = secret or pyotp.random_base32(), None, None
    db.session.flush()
    return record


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (shown as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _accept_totp(record: AdminTotp, code: str, at: datetime) -> bool:
    """True (and ``last_step`` advanced) when ``code`` is the TOTP of a step within
    :data:`DRIFT_STEPS` of ``at`` that is later than the last accepted one."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(record.secret)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if record.last_step is not None and step <= record.last_step:
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            record.last_step = step
            db.session.flush()
            return True
    return False


def new_recovery_codes(user_id: uuid.UUID) -> list[str]:
    """Replace the admin's recovery codes with :data:`RECOVERY_CODES` new ones; returns them in
    clear (``xxxxx-xxxxx``, shown once), stores only their hashes."""
    db.session.execute(sa.delete(AdminRecoveryCode).where(AdminRecoveryCode.user_id == user_id))
    codes = [f"{secrets.token_hex(3)[:5]}-{secrets.token_hex(3)[:5]}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(AdminRecoveryCode(user_id=user_id, code_hash=_hasher.hash(code)) for code in codes)
    db.session.flush()
    return codes


def confirm_enrolment(user: User, code: str, at: datetime | None = None) -> list[str] | None:
    """Confirm the pending enrolment with a current ``code`` from the app: returns the new
    recovery codes (in clear, to show once), or ``None`` when the code is wrong or there is no
    pending enrolment."""
    record = totp_of(user.id)
    if record is None or record.confirmed_at is not None or not _accept_totp(record, code, at or utcnow()):
        return None
    record.confirmed_at = at or utcnow()
    db.session.flush()
    return new_recovery_codes(user.id)


def enrol_with_secret(user: User, secret: str) -> AdminTotp:
    """Enrol ``user`` at once with a known base32 ``secret`` (the demo admin's, from
    ``DEMO_ADMIN_TOTP_SECRET``; never for real accounts): confirmed, no recovery codes."""
    record = start_enrolment(user, secret)
    record.confirmed_at = utcnow()
    db.session.flush()
    return record


def verify_second_factor(user: User, code: str, at: datetime | None = None) -> str | None:
    """Check a confirmed admin's second factor: a TOTP code (each accepted once) or an unused
    recovery code (then used up). Returns ``"totp"`` or ``"recovery"``, or ``None`` when refused."""
    record = totp_of(user.id)
    if record is None or record.confirmed_at is None:
        return None
    if _accept_totp(record, code, at or utcnow()):
        return "totp"
    cleaned = code.strip().lower()
    if len(cleaned) != 11:
        return None
    unused = db.session.scalars(sa.select(AdminRecoveryCode).where(
        AdminRecoveryCode.user_id == user.id, AdminRecoveryCode.used_at.is_(None)).with_for_update())
    for candidate in unused:
        try:
            _hasher.verify(candidate.code_hash, cleaned)
        except VerificationError:
            continue
        candidate.used_at = at or utcnow()
        db.session.flush()
        return "recovery"
    return None


def recovery_codes_left(user_id: uuid.UUID) -> int:
    """How many unused recovery codes the admin has."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(AdminRecoveryCode).where(
        AdminRecoveryCode.user_id == user_id, AdminRecoveryCode.used_at.is_(None))) or 0
