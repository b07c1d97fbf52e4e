"""Why a start time cannot be booked, and the customer's own booking at a time.

Read-only answers for the booking steps (storefront, manage page) so a page can tell "someone
else has just taken this time" from "this was never a bookable time" (outside opening hours,
between the offered starts) and from "this is already your booking" (the customer went Back
after booking). The writing functions (:func:`app.booking.service.create_booking`,
:func:`app.booking.changes.reschedule_booking`) stay the last word: the exclusion constraint
decides races.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.booking.models import Booking, Customer
from app.booking.slots import taken_by_booking
from app.catalog.models import Service
from app.extensions import db
from app.identity.service import normalize_email
from app.scheduling.availability import BookingRules, ServiceSpec, compute_slots
from app.scheduling.service import find_slots, load_schedules, performers
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone

#: Statuses in which a booking is still the customer's (holding its time, or about to).
OWN_STATUSES = ("pending", "confirmed", "awaiting_payment", "awaiting_email")


class SlotRefusal(enum.StrEnum):
    """Why a start is not bookable now (the page maps each to its own sentence)."""

    #: The start has passed.
    PAST = "past"
    #: Inside the business's lead time (``lead_time_minutes``).
    TOO_SOON = "too_soon"
    #: Beyond the business's horizon (``horizon_days``).
    TOO_FAR = "too_far"
    #: Never offered: outside working hours, off the slot grid, or during time off.
    CLOSED = "closed"
    #: On the grid and in hours, but another active booking holds it.
    TAKEN = "taken"


def slot_refusal(tenant: Tenant, service: Service, staff_id: uuid.UUID | None, start: datetime,
                 now: datetime | None = None, also: Sequence[Service] = ()) -> SlotRefusal | None:
    """``None`` when ``start`` (tz-aware) is offered now for ``service`` (then the services
    ``also``, back to back) with ``staff_id`` (``None``: anyone who performs them), else the
    reason it is not. Writes nothing.

    A start is :attr:`SlotRefusal.TAKEN` only when it would be offered were it not for other
    bookings; an off-grid or out-of-hours start is :attr:`SlotRefusal.CLOSED` even when it
    overlaps a booking.
    """
    now = now or utcnow()
    start = start.astimezone(UTC)
    if start <= now:
        return SlotRefusal.PAST
    if start < now + timedelta(minutes=tenant.lead_time_minutes):
        return SlotRefusal.TOO_SOON
    if start >= now + timedelta(days=tenant.horizon_days):
        return SlotRefusal.TOO_FAR
    local_day = start.astimezone(zone(tenant.timezone)).date()
    slots = find_slots(tenant, service, staff_id=staff_id, start_date=local_day, end_date=local_day, now=now,
                       any_staff_merge=True, also=also)
    if any(s.start == start for s in slots):
        return None
    if on_the_grid(tenant, service, staff_id, start) and taken_by_booking(service, staff_id, start):
        return SlotRefusal.TAKEN
    return SlotRefusal.CLOSED


#: What the customer reads for each reason a start cannot be booked (see :class:`SlotRefusal`),
#: translated when shown; ``%(lead)d`` is the business's notice in minutes, ``%(horizon)d`` how
#: many days ahead it opens.
REFUSAL_TEXT = {
    SlotRefusal.TAKEN: _l("This time is no longer available: someone else has just booked it."),
    SlotRefusal.CLOSED: _l("This is not a bookable time: it is outside opening hours or between the offered "
                           "start times."),
    SlotRefusal.PAST: _l("This time has already passed."),
    SlotRefusal.TOO_SOON: _l("This time is too soon: bookings need at least %(lead)d minutes' notice."),
    SlotRefusal.TOO_FAR: _l("This time is too far ahead: bookings open at most %(horizon)d days ahead."),
}


def refusal_text(reason: SlotRefusal, *, lead_minutes: int, horizon_days: int) -> str:
    """The sentence shown above the next free times for a start refused for ``reason``, with
    the business's lead time (minutes) and horizon (days) where they are the reason, in the
    reader's language."""
    text = str(REFUSAL_TEXT[reason])
    if "%(" in text:
        text = text % {"lead": lead_minutes, "horizon": horizon_days}
    return text + " " + _("Please pick another time.")


def refusal_message(tenant: Tenant, service_id: uuid.UUID, staff_id: uuid.UUID | None, start: datetime,
                    fallback: str, now: datetime | None = None) -> str:
    """The sentence for a refused ``start`` (tz-aware) of ``service_id`` with ``staff_id``
    (:func:`slot_refusal` worded by :func:`refusal_text`), or ``fallback`` when the start turns
    out bookable after all (a race the exclusion constraint decided) or the service is unknown.
    Writes nothing."""
    service = db.session.scalar(sa.select(Service).where(Service.id == service_id))
    reason = slot_refusal(tenant, service, staff_id, start, now) if service is not None else None
    if reason is None:
        return fallback
    return refusal_text(reason, lead_minutes=tenant.lead_time_minutes, horizon_days=tenant.horizon_days)


def on_the_grid(tenant: Tenant, service: Service, staff_id: uuid.UUID | None, start: datetime) -> bool:
    """True when ``start`` would be offered by a performer's working hours and the business's
    slot interval if nothing (no booking, no time off) were in the way."""
    durations = performers(service.id)
    if staff_id is not None:
        durations = {k: v for k, v in durations.items() if k == staff_id}
    if not durations:
        return False
    tz = zone(tenant.timezone)
    local_day = start.astimezone(tz).date()
    first = start - timedelta(days=2)
    schedules = [dataclasses.replace(s, busy=())
                 for s in load_schedules(durations, first, start + timedelta(days=2), tenant_id=tenant.id)]
    spec = ServiceSpec(service.duration_minutes, service.buffer_before_minutes, service.buffer_after_minutes)
    rules = BookingRules(lead_time_minutes=0, horizon_days=100000, slot_interval_minutes=tenant.slot_interval_minutes)
    slots = compute_slots(tz=tz, schedules=schedules, service=spec, rules=rules, start_date=local_day,
                          end_date=local_day, now=first)
    return any(s.start == start for s in slots)


def own_booking_at(service_id: uuid.UUID, start: datetime, *, booking_ids: Collection[uuid.UUID] = (),
                   user_id: uuid.UUID | None = None, email: str | None = None) -> Booking | None:
    """The booking for ``service_id`` starting at ``start`` (tz-aware) in the current business
    that is provably the caller's: one of ``booking_ids`` (made in this browser session) or
    of a customer record linked to the account ``user_id``; active, awaiting payment or
    awaiting its email; with ``email``, only a booking of that customer address (another
    person booking in the same browser is not "you"). ``None`` otherwise: the customer who pressed Back after booking and
    sent the same time again gets their booking, a stranger never learns whose time it is."""
    proof = []
    if booking_ids:
        proof.append(Booking.id.in_(list(booking_ids)))
    if user_id is not None:
        proof.append(Customer.user_id == user_id)
    if not proof:
        return None
    query = (sa.select(Booking)
             .join(Customer, sa.and_(Customer.tenant_id == Booking.tenant_id, Customer.id == Booking.customer_id))
             .where(sa.or_(*proof), Booking.service_id == service_id, Booking.starts_at == start.astimezone(UTC),
                    Booking.status.in_(OWN_STATUSES)))
    if email is not None:
        query = query.where(Customer.email == normalize_email(email))
    return db.session.scalar(query.limit(1))
