"""The booking state machine: one transition table, applied in one place.

Every state change goes through :func:`transition`, which consults the single
:data:`TRANSITIONS` table, records a :class:`~app.booking.models.BookingEvent` and writes an
outbox event in the same transaction, and bumps the tenant's availability version.
Functions flush and never commit. :func:`run_automatic_transitions` applies the automatic
moves (expiry, auto-completion, released guest holds) across tenants.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.booking.errors import InvalidTransition
from app.booking.links import email_confirm_ttl
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.catalog.availability_version import bump_version
from app.extensions import db
from app.outbox.events import emit
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow

S = BookingStatus

#: (from status, action) -> to status. The only place state moves are defined.
TRANSITIONS: dict[tuple[BookingStatus, str], BookingStatus] = {
    (S.PENDING, "confirm"): S.CONFIRMED,
    (S.PENDING, "decline"): S.CANCELLED,
    (S.PENDING, "cancel"): S.CANCELLED,
    (S.PENDING, "expire"): S.CANCELLED,
    (S.CONFIRMED, "cancel"): S.CANCELLED,
    (S.CONFIRMED, "complete"): S.COMPLETED,
    (S.CONFIRMED, "no_show"): S.NO_SHOW,
    (S.CONFIRMED, "auto_complete"): S.COMPLETED,
    (S.AWAITING_PAYMENT, "pay"): S.CONFIRMED,
    (S.AWAITING_PAYMENT, "pay_request"): S.PENDING,
    (S.AWAITING_PAYMENT, "expire_hold"): S.CANCELLED,
    (S.AWAITING_PAYMENT, "cancel"): S.CANCELLED,
    (S.AWAITING_EMAIL, "confirm_email"): S.CONFIRMED,
    (S.AWAITING_EMAIL, "confirm_email_request"): S.PENDING,
    (S.AWAITING_EMAIL, "expire_email"): S.CANCELLED,
    (S.AWAITING_EMAIL, "cancel"): S.CANCELLED,
}

PENDING_TTL = timedelta(hours=48)
AUTO_COMPLETE_AFTER = timedelta(days=7)

@dataclass(frozen=True)
class Actor:
    """Who acts: ``kind`` is ``customer``, ``staff`` or ``system``; ``user_id`` when known."""

    kind: str
    user_id: uuid.UUID | None = None


SYSTEM = Actor("system")


def emit_event(kind: str, booking: Booking, **extra: object) -> None:
    """Write the outbox event ``kind`` about ``booking`` (payload ``{"booking_id", **extra}``,
    JSON-serialisable) in the current transaction."""
    emit(kind, {"booking_id": str(booking.id), **extra})


def record_event(booking: Booking, kind: str, from_status: str | None, actor: Actor, reason: str = "") -> None:
    """Add a :class:`BookingEvent` (``kind``, from ``from_status`` to the booking's status now,
    by ``actor``; ``reason`` cut to 500 characters) to the booking's log."""
    db.session.add(BookingEvent(booking_id=booking.id, kind=kind, from_status=from_status, to_status=booking.status,
                                actor=actor.kind, actor_user_id=actor.user_id, reason=reason[:500]))


#: Actions that record what happened at the appointment, so only once it has started.
AFTER_START_ACTIONS = frozenset({"complete", "no_show"})


def can_apply(booking: Booking, action: str, now: datetime | None = None) -> bool:
    """True when ``action`` is allowed on ``booking`` now (status per :data:`TRANSITIONS`;
    completed / no-show only once the appointment has started)."""
    if (BookingStatus(booking.status), action) not in TRANSITIONS:
        return False
    return not (action in AFTER_START_ACTIONS and (now or utcnow()) < booking.starts_at)


def transition(booking: Booking, action: str, actor: Actor, reason: str = "",
               now: datetime | None = None) -> Booking:
    """Apply ``action`` to ``booking`` per :data:`TRANSITIONS`; record and emit it.

    Raises:
        InvalidTransition: the action is not allowed from the booking's status, or marks
            completed / no-show before the appointment has started.
    """
    current = BookingStatus(booking.status)
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise InvalidTransition(f"A {current.value.replace('_', ' ')} booking cannot be {_past(action)}.")
    if action in AFTER_START_ACTIONS and (now or utcnow()) < booking.starts_at:
        raise InvalidTransition("You can mark a booking completed or no-show once it has started.")
    booking.status = target.value
    if target == S.CANCELLED:
        booking.cancel_reason = reason[:500] or None
        booking.cancelled_by = actor.kind
    record_event(booking, action, current.value, actor, reason)
    emit_event(f"booking.{_event_name(action)}", booking, actor=actor.kind)
    bump_version()
    db.session.flush()
    return booking


def _past(action: str) -> str:
    return {"confirm": "confirmed", "decline": "declined", "cancel": "cancelled", "expire": "expired",
            "complete": "marked completed", "no_show": "marked as a no-show",
            "auto_complete": "completed", "expire_hold": "released (the payment time ran out)",
            "pay": "paid", "pay_request": "paid", "confirm_email": "confirmed", "confirm_email_request": "confirmed",
            "expire_email": "released (the email was not confirmed in time)"}.get(action, action)


def _event_name(action: str) -> str:
    return {"auto_complete": "completed", "complete": "completed", "confirm": "confirmed", "decline": "declined",
            "cancel": "cancelled", "expire": "expired", "no_show": "no_show", "pay": "confirmed",
            "pay_request": "requested", "expire_hold": "hold_expired", "confirm_email": "confirmed",
            "confirm_email_request": "requested", "expire_email": "email_expired"}[action]


def run_automatic_transitions(now: datetime | None = None) -> dict[str, int]:
    """Cancel pending bookings older than 48 h, release ``awaiting_email`` ones whose link was
    not clicked within :func:`email_confirm_ttl`, and complete confirmed ones 7 days past their end.

    Runs across tenants (each booking moved inside its own tenant scope); flushes only.
    Returns counts ``{"expired": n, "completed": m, "released": r}``.
    """
    now = now or utcnow()
    with platform_scope("automatic booking transitions"):
        expired = list(db.session.execute(sa.select(Booking.tenant_id, Booking.id).where(
            Booking.status == S.PENDING.value, Booking.created_at <= now - PENDING_TTL)))
        done = list(db.session.execute(sa.select(Booking.tenant_id, Booking.id).where(
            Booking.status == S.CONFIRMED.value, Booking.ends_at <= now - AUTO_COMPLETE_AFTER)))
        unconfirmed = list(db.session.execute(sa.select(Booking.tenant_id, Booking.id).where(
            Booking.status == S.AWAITING_EMAIL.value, Booking.created_at <= now - email_confirm_ttl())))
    counts = {"expired": 0, "completed": 0, "released": 0}
    for rows, action, key, reason in ((expired, "expire", "expired", "not confirmed within 48 hours"),
                                      (done, "auto_complete", "completed", "not marked within 7 days"),
                                      (unconfirmed, "expire_email", "released", "email not confirmed in time")):
        for tenant_id, booking_id in rows:
            with tenant_scope(tenant_id):
                booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
                if booking is not None and (BookingStatus(booking.status), action) in TRANSITIONS:
                    transition(booking, action, SYSTEM, reason)
                    counts[key] += 1
    return counts
