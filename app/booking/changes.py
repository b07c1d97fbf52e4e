"""Changing a booking after it was made: the customer's cancel and reschedule rules, and
moving a booking to another time (customer or staff)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.booking.errors import CutoffPassed, InvalidTransition, SlotUnavailable, UnknownReference
from app.booking.items import item_services, items_of, span_of
from app.booking.models import ACTIVE_STATUSES, Booking
from app.booking.slots import candidate_staff, is_overlap, next_free_starts, validate_start
from app.booking.transitions import Actor, emit_event, record_event, transition
from app.catalog.availability_version import bump_version
from app.catalog.models import Service
from app.extensions import db
from app.tenants.models import Tenant
from app.timeutil import utcnow


def customer_change_deadline(tenant: Tenant, booking: Booking) -> datetime:
    """The instant (tz-aware UTC) until which the customer may cancel or move ``booking``
    themselves: its start minus the business's cut-off (``cancellation_cutoff_hours``)."""
    return booking.starts_at - timedelta(hours=tenant.cancellation_cutoff_hours)


def customer_can_change(tenant: Tenant, booking: Booking, now: datetime | None = None) -> bool:
    """True while the customer may still cancel or reschedule (before the cut-off, active)."""
    now = now or utcnow()
    return (booking.status in {s.value for s in ACTIVE_STATUSES}
            and now < customer_change_deadline(tenant, booking))


def cancel_by_customer(tenant: Tenant, booking: Booking, reason: str = "", now: datetime | None = None,
                       user_id: uuid.UUID | None = None) -> Booking:
    """Customer cancels through the manage link or their account.

    Raises:
        CutoffPassed: within the cut-off before the start.
        InvalidTransition: the booking is not active.
    """
    if booking.status not in {s.value for s in ACTIVE_STATUSES}:
        raise InvalidTransition(_("This booking is no longer active."))
    if not customer_can_change(tenant, booking, now):
        raise CutoffPassed(_("Bookings can be cancelled online until %(hours)d hours before the start. Please "
                             "contact the business.", hours=tenant.cancellation_cutoff_hours))
    return transition(booking, "cancel", Actor("customer", user_id), reason)


def check_customer_reschedule(tenant: Tenant, booking: Booking, now: datetime | None = None) -> None:
    """Raise unless the customer may move ``booking`` themselves now (manage link, account).

    Raises:
        InvalidTransition: the booking is not active.
        CutoffPassed: within the cut-off before the start.

    The money policy (past the free-cancellation deadline of a booking holding money) is
    checked above this domain: :func:`app.checkout.booking.check_customer_money_reschedule`.
    """
    now = now or utcnow()
    if booking.status not in {s.value for s in ACTIVE_STATUSES}:
        raise InvalidTransition(_("This booking is no longer active."))
    if not customer_can_change(tenant, booking, now):
        raise CutoffPassed(_("Bookings can be changed online until %(hours)d hours before the start. Please "
                             "contact the business.", hours=tenant.cancellation_cutoff_hours))


def reschedule_booking(tenant: Tenant, booking: Booking, new_start: datetime, actor: Actor,
                       staff_id: uuid.UUID | None = None, now: datetime | None = None) -> Booking:
    """Move an active booking to ``new_start`` (same staff unless ``staff_id`` given). The
    ``booking.rescheduled`` outbox event carries ``previous_start`` (ISO 8601) and ``actor``.

    Raises:
        CutoffPassed: a customer past the cut-off.
        InvalidTransition: the booking is not active.
        SlotUnavailable: the new time is not free.
        UnknownReference: the booking's service no longer exists.
    """
    now = now or utcnow()
    if booking.status not in {s.value for s in ACTIVE_STATUSES}:
        raise InvalidTransition(_("This booking is no longer active."))
    if actor.kind == "customer":
        check_customer_reschedule(tenant, booking, now)
    services = item_services(booking)
    if not services:
        raise UnknownReference(_("This service does not exist."), "service_id")
    service, also = services[0], services[1:]
    items = items_of(booking.id)
    validate_start(tenant, new_start, now)
    new_start = new_start.astimezone(UTC)
    target_staff = staff_id or booking.staff_id
    # Free this booking's own time while checking, so moving by a few minutes works.
    old = (booking.starts_at, booking.ends_at, booking.blocked_from, booking.blocked_until)
    old_staff = booking.staff_id
    duration = booking.ends_at - booking.starts_at
    booking.status_before = booking.status  # type: ignore[attr-defined]
    candidates = [c for c in _candidate_staff_excluding(tenant, service, target_staff, new_start, booking, also)]
    if not candidates:
        raise SlotUnavailable(_("This time is not available."),
                              next_free_starts(tenant, service, target_staff, new_start, also=also))
    chosen_staff, end = candidates[0]
    try:
        with db.session.begin_nested():
            booking.staff_id = chosen_staff
            booking.starts_at = new_start
            if len(items) > 1 and chosen_staff == old_staff:
                # Several services with the same performer: the booked durations and buffers stay.
                span = span_of(items, new_start)
                booking.ends_at, booking.blocked_from, booking.blocked_until = (span.end, span.blocked_from,
                                                                               span.blocked_until)
            else:
                booking.ends_at = end if end else new_start + duration
                booking.blocked_from = new_start - timedelta(minutes=service.buffer_before_minutes)
                booking.blocked_until = booking.ends_at + timedelta(minutes=services[-1].buffer_after_minutes)
            db.session.flush()
    except IntegrityError as exc:
        booking.starts_at, booking.ends_at, booking.blocked_from, booking.blocked_until = old
        if is_overlap(exc):
            raise SlotUnavailable(_("Sorry, this time was just taken."),
                                  next_free_starts(tenant, service, target_staff, new_start, also=also)) from exc
        raise
    record_event(booking, "rescheduled", booking.status, actor, f"from {old[0].isoformat()}")
    emit_event("booking.rescheduled", booking, previous_start=old[0].isoformat(), actor=actor.kind)
    bump_version()
    db.session.flush()
    return booking


def _candidate_staff_excluding(tenant: Tenant, service: Service, staff_id: uuid.UUID, start: datetime,
                               booking: Booking, also: list[Service]) -> list[tuple[uuid.UUID, datetime]]:
    """Like :func:`candidate_staff` but treating ``booking``'s own time as free."""
    saved = booking.status
    with db.session.no_autoflush:
        db.session.execute(sa.update(Booking).where(Booking.id == booking.id).values(status="cancelled")
                           .execution_options(synchronize_session=False))
        try:
            return candidate_staff(tenant, service, staff_id, start, also)
        finally:
            db.session.execute(sa.update(Booking).where(Booking.id == booking.id).values(status=saved)
                               .execution_options(synchronize_session=False))
