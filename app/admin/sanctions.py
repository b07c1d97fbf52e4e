"""Sanctions: the platform suspends, bans or warns a business or a person, and reinstates them.

The ``sanction`` table is the history; the active suspension or ban of a subject drives
``Tenant.suspended_at`` (the business's hosts answer "unavailable", its marketplace listing is
hidden) or ``User.suspended_at`` (sign-in refused, every session ended). Both take effect on the
next request. After the commit, the subject's open sockets are closed through the Socket.IO
message queue (:mod:`app.realtime.closing`) and the people concerned are told
(:mod:`app.admin.notices`). Every action is audit-logged with the reason, before and after.

Runs on the apex, no tenant in scope; reads of tenant tables happen inside ``platform_scope``.
Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.admin import notices
from app.admin.models import BAN, KINDS, SUSPEND, WARN, Sanction
from app.audit.service import SYSTEM_ACTOR, AuditActor, record_audit
from app.errors import InputError
from app.extensions import db
from app.formatting import format_number
from app.identity.models import User
from app.marketplace.models import MarketplaceListing
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.uow import after_commit

#: Longest reason, in characters.
MAX_REASON = 1000
BUSINESS, PERSON = "business", "person"


class SanctionError(InputError):
    """A sanction that cannot be applied (no reason, an end in the past, unknown kind or subject)."""


@dataclass(frozen=True)
class Subject:
    """Whom a sanction is about: ``kind`` :data:`BUSINESS` or :data:`PERSON` and its ``id``."""

    kind: str
    id: uuid.UUID


def _check(kind: str, reason: str, ends_at: datetime | None, now: datetime) -> str:
    if kind not in KINDS:
        raise SanctionError(_("Choose suspend, ban or warn."), "kind")
    text = (reason or "").strip()
    if not text:
        raise SanctionError(_("Give a reason: the business or person is told it."), "reason")
    if len(text) > MAX_REASON:
        raise SanctionError(_("The reason can be at most %(count)s characters.", count=format_number(MAX_REASON)), "reason")
    if ends_at is not None and (kind == WARN or ends_at.tzinfo is None or ends_at <= now):
        raise SanctionError(_("The end must be in the future (or leave it empty: until reinstated)."), "ends_at")
    return text


def _where(subject: Subject) -> sa.ColumnElement[bool]:
    col = Sanction.business_id if subject.kind == BUSINESS else Sanction.user_id
    return col == subject.id


def history(subject: Subject) -> list[Sanction]:
    """Every sanction of ``subject``, newest first."""
    return list(db.session.scalars(sa.select(Sanction).where(_where(subject))
                                   .order_by(Sanction.created_at.desc(), Sanction.id)))


def active(subject: Subject, now: datetime | None = None) -> Sanction | None:
    """The suspension or ban of ``subject`` in force at ``now`` (the latest one), or ``None``."""
    now = now or utcnow()
    return next((s for s in history(subject) if s.active_at(now)), None)


def _load(subject: Subject) -> Tenant | User:
    row = db.session.get(Tenant if subject.kind == BUSINESS else User, subject.id)
    if row is None:
        raise SanctionError(_("There is no such business or person."))
    return row


def _snapshot(row: Tenant | User) -> dict[str, str | None]:
    return {"suspended_at": row.suspended_at.isoformat() if row.suspended_at else None}


def sync(subject: Subject, now: datetime | None = None) -> bool:
    """Make ``suspended_at`` of the subject (and the business's listing) match its active
    sanction; True when it changed. Flushes.

    Raises:
        SanctionError: no such business or person.
    """
    now = now or utcnow()
    row = _load(subject)
    current = active(subject, now)
    want = current.created_at if current is not None else None
    if (row.suspended_at is None) == (want is None):
        return False
    row.suspended_at = want
    if subject.kind == BUSINESS:
        db.session.execute(sa.update(MarketplaceListing).where(MarketplaceListing.business_id == subject.id)
                           .values(suspended=want is not None))
    db.session.flush()
    return True


def _after_suspension(subject: Subject, sanction_id: uuid.UUID) -> None:
    sid = subject.id
    if subject.kind == BUSINESS:
        after_commit(lambda: notices.close_business_sockets(sid))
    else:
        after_commit(lambda: notices.close_person_sockets(sid))


def impose(subject: Subject, kind: str, reason: str, actor: AuditActor, *, ends_at: datetime | None = None,
           now: datetime | None = None) -> Sanction:
    """Suspend, ban or warn ``subject`` for ``reason`` until ``ends_at`` (tz-aware UTC, ``None``
    for until reinstated; never for a warning). A suspension or ban takes effect on the next
    request, closes the subject's sockets after the commit, and tells its owners (a business,
    whose upcoming customers are told too, once each) or the person; a warning only tells them.
    Audit-logged (``business.suspended`` / ``person.warned`` …). Flushes.

    Raises:
        SanctionError: bad kind, empty or long reason, an end in the past, unknown subject, or
            a platform admin as the person.
    """
    now = now or utcnow()
    text = _check(kind, reason, ends_at, now)
    row = _load(subject)
    if isinstance(row, User) and row.is_platform_admin:
        raise SanctionError(_("A platform admin cannot be sanctioned here: remove the admin role first."))
    with platform_scope(f"console: {kind} a {subject.kind}"):
        before = _snapshot(row)
        sanction = Sanction(business_id=subject.id if subject.kind == BUSINESS else None,
                            user_id=subject.id if subject.kind == PERSON else None, kind=kind, reason=text,
                            ends_at=ends_at, created_by=actor.user_id, created_at=now)
        db.session.add(sanction)
        db.session.flush()
        if kind != WARN:
            sync(subject, now)
            _after_suspension(subject, sanction.id)
        verb = {SUSPEND: "suspended", BAN: "banned", WARN: "warned"}[kind]
        record_audit(actor, f"{subject.kind}.{verb}", subject.kind, subject.id, reason=text, before=before,
                     after={**_snapshot(row), "sanction_id": str(sanction.id), "kind": kind,
                            "ends_at": ends_at.isoformat() if ends_at else None})
        notices.tell_sanctioned(subject.kind, subject.id, sanction, now)
    return sanction


def reinstate(subject: Subject, reason: str, actor: AuditActor, *, now: datetime | None = None) -> int:
    """Lift every suspension or ban of ``subject`` in force (``lifted_at`` now, by ``actor``,
    for ``reason``) and clear ``suspended_at``; the number lifted (0: nothing was in force, and
    nothing is logged). Audit-logged ``<kind>.reinstated``. Flushes.

    Raises:
        SanctionError: empty reason, or unknown subject.
    """
    now = now or utcnow()
    text = _check(WARN, reason, None, now)
    row = _load(subject)
    with platform_scope(f"console: reinstate a {subject.kind}"):
        return _lift(subject, row, [s for s in history(subject) if s.active_at(now)], text, actor, now)


def _lift(subject: Subject, row: Tenant | User, sanctions: list[Sanction], reason: str, actor: AuditActor,
          now: datetime) -> int:
    if not sanctions and row.suspended_at is None:
        return 0
    before = _snapshot(row)
    for s in sanctions:
        s.lifted_at, s.lifted_by, s.lift_reason = now, actor.user_id, reason[:MAX_REASON]
    db.session.flush()
    sync(subject, now)
    record_audit(actor, f"{subject.kind}.reinstated", subject.kind, subject.id, reason=reason, before=before,
                 after={**_snapshot(row), "lifted": [str(s.id) for s in sanctions]})
    return len(sanctions)


def lift_expired(now: datetime | None = None, limit: int = 200) -> int:
    """The worker's pass: lift every time-limited suspension or ban whose ``ends_at`` has passed
    (by the system, reason "ended") and sync its subject; the number of subjects reinstated."""
    now = now or utcnow()
    with platform_scope("console: lift ended sanctions"):
        due = list(db.session.scalars(sa.select(Sanction).where(
            Sanction.lifted_at.is_(None), Sanction.ends_at.is_not(None), Sanction.ends_at <= now,
            Sanction.kind.in_([SUSPEND, BAN])).order_by(Sanction.ends_at).limit(limit)))
        subjects = {Subject(BUSINESS, s.business_id) if s.business_id else Subject(PERSON, s.user_id)  # type: ignore[arg-type]
                    for s in due}
        for s in due:
            s.lifted_at, s.lift_reason = now, "The sanction ended."
        db.session.flush()
        done = 0
        for subject in sorted(subjects, key=lambda x: str(x.id)):
            row = _load(subject)
            before = _snapshot(row)
            if sync(subject, now):
                record_audit(SYSTEM_ACTOR, f"{subject.kind}.reinstated", subject.kind, subject.id,
                             reason="The sanction ended.", before=before, after=_snapshot(row))
                done += 1
    return done
