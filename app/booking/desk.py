"""The front desk: staff enter a booking (phone, walk-in), and edit or move one.

Staff see the free starts from availability but may book over working hours, blocked time
and the lead time with an explicit ``override`` ("Book anyway"). Nothing overrides another
booking: the checks of :func:`app.scheduling.conflicts.staff_conflicts` say why, and the
``booking_no_overlap`` exclusion constraint still refuses a concurrent overlap. Staff
bookings are ``confirmed`` and paid at the venue.

The customer is told through the same outbox events the storefront emits
(``booking.confirmed``, ``booking.rescheduled``); the payload's ``notify_customer`` is False
when staff unticked "Notify the customer" or the customer has no email address. Every change
is recorded as a :class:`~app.booking.models.BookingEvent`. Tenant in scope; functions flush
and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.booking.errors import InvalidTransition, NeedsOverride, SlotUnavailable, UnknownReference
from app.booking.items import (
    PlannedItem,
    item_services,
    items_of,
    plan_items,
    services_label,
    services_or_raise,
    span_of,
    total_price,
    write_items,
)
from app.booking.models import ACTIVE_STATUSES, Booking, BookingSource, BookingStatus, Customer
from app.booking.service import MAX_NOTES, CustomerInput, upsert_customer
from app.booking.slots import is_overlap, next_free_starts, service_or_raise
from app.booking.transitions import Actor, emit_event, record_event
from app.catalog.availability_version import bump_version
from app.catalog.models import Service, StaffMember
from app.extensions import db
from app.formatting import format_money
from app.scheduling.conflicts import Conflicts, staff_conflicts
from app.scheduling.service import chain_performers
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone


def desk_customer(name: str, email: str | None, phone: str | None) -> Customer:
    """Find or create the customer staff typed in: by email when given (the booking domain's
    :func:`~app.booking.service.upsert_customer`), else by the E.164 ``phone``: the business's
    customer with that number (one with an email first, then the oldest; renamed to ``name``
    when given, like the upsert by email), or a new phone-only customer without an email. Two desks entering the same new number at once get one record
    (a transaction-level advisory lock on the business and number).

    Raises:
        ValueError: neither an email nor a phone number.
    """
    if email:
        return upsert_customer(CustomerInput(name, email, phone or None))
    if not phone:
        raise ValueError("Enter a phone number or an email address.")
    key = f"customer-phone:{require_tenant_id()}:{phone}"
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))
    found = db.session.scalar(sa.select(Customer).where(Customer.phone == phone, Customer.erased_at.is_(None))
                              .order_by(Customer.email.is_(None), Customer.created_at).limit(1))
    if found is not None:
        if name:
            found.name = name  # as the email upsert does: the name staff typed is kept
            db.session.flush()
        return found
    customer = Customer(name=name, email=None, phone=phone)
    db.session.add(customer)
    db.session.flush()
    return customer


def walk_in_start(now: datetime | None = None) -> datetime:
    """``now`` (UTC) rounded down to a whole 5 minutes: when a walk-in starts."""
    now = (now or utcnow()).astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)


def first_free_staff(tenant: Tenant, start: datetime, minutes: int = 30, now: datetime | None = None, *,
                     service: Service | None = None) -> uuid.UUID | None:
    """The first active staff member (in the business's order) free for the whole visit from
    ``start``: no booking in ``[start, start + minutes)``, or, with ``service``, among the people
    who perform it, for their own length of it plus its buffers. Prefers one who is working and
    not blocked then; ``None`` when everyone is busy (or nobody performs ``service``)."""
    now = now or utcnow()
    if service is not None:
        staff = list(chain_performers([service]))
    else:
        staff = list(db.session.scalars(sa.select(StaffMember.id).where(StaffMember.active.is_(True))
                                        .order_by(StaffMember.position, StaffMember.name)))
    free: list[tuple[uuid.UUID, Conflicts]] = []
    for staff_id in staff:
        if service is not None:
            spot = _placement([service], staff_id, start)
            found = staff_conflicts(tenant, staff_id, spot.start, spot.end, blocked_from=spot.blocked_from,
                                    blocked_until=spot.blocked_until, now=now)
        else:
            found = staff_conflicts(tenant, staff_id, start, start + timedelta(minutes=minutes), now=now)
        if found.taken is None:
            free.append((staff_id, found))
    working = [sid for sid, found in free if not found.off_duty]
    return (working or [sid for sid, _ in free] or [None])[0]


@dataclass(frozen=True)
class Placement:
    """Where a booking goes: ``staff_id``, appointment ``start``/``end`` and the blocked range
    (buffers included), all tz-aware UTC, and its items (the services in order, with the
    performer's durations and prices)."""

    staff_id: uuid.UUID
    start: datetime
    end: datetime
    blocked_from: datetime
    blocked_until: datetime
    plans: tuple[PlannedItem, ...] = ()


def _placement(services: Sequence[Service], staff_id: uuid.UUID, start: datetime) -> Placement:
    plans = plan_items(services, staff_id)
    span = span_of(plans, start)
    return Placement(staff_id, span.start, span.end, span.blocked_from, span.blocked_until, tuple(plans))


def _place(tenant: Tenant, services: Sequence[Service], staff_id: uuid.UUID | None, start: datetime, *,
           override: bool, now: datetime, exclude_booking_id: uuid.UUID | None = None) -> Placement:
    """The first performer of every service of ``services`` (``staff_id``, or anyone in the
    business's order) free for the whole chain from ``start``.

    Raises:
        UnknownReference: ``staff_id`` does not perform the service(s) (``field`` ``staff_id``).
        SlotUnavailable: another booking holds the time (every performer, for "anyone").
        NeedsOverride: free of bookings but against the rules, and not ``override``.
    """
    service, also = services[0], list(services[1:])
    durations = chain_performers(services)
    if staff_id is not None and staff_id not in durations:
        raise UnknownReference("This staff member does not perform this service."
                               if not also else "This staff member does not perform all these services.",
                               "staff_id")
    candidates = [staff_id] if staff_id is not None else list(durations)
    if not candidates:
        raise UnknownReference("Nobody performs this service yet." if not also
                               else "Nobody performs all these services.", "staff_id")
    first_warnings: list[str] | None = None
    taken = "Everyone who performs this service is booked at this time."
    for candidate in candidates:
        spot = _placement(services, candidate, start)
        found = staff_conflicts(tenant, candidate, spot.start, spot.end, blocked_from=spot.blocked_from,
                                blocked_until=spot.blocked_until, now=now, exclude_booking_id=exclude_booking_id)
        if found.taken:
            taken = found.taken if staff_id is not None else taken
            continue
        if found.warnings and not override:
            first_warnings = first_warnings or found.warnings
            continue
        return spot
    alternatives = next_free_starts(tenant, service, staff_id, max(start, now), also=also)
    if first_warnings:
        raise NeedsOverride(first_warnings, alternatives)
    raise SlotUnavailable(taken, alternatives)


def book_by_staff(tenant: Tenant, *, service_id: uuid.UUID, staff_id: uuid.UUID | None, start: datetime,
                  customer: Customer, source: str, actor: Actor, notify_customer: bool = True,
                  override: bool = False, notes: str = "", now: datetime | None = None,
                  also_service_ids: Sequence[uuid.UUID] = ()) -> Booking:
    """Staff book ``start`` (tz-aware) for ``customer``: ``service_id`` (then the services
    ``also_service_ids`` back to back, :mod:`app.booking.items`) with ``staff_id`` (or the first
    free performer of them all), ``source`` a :class:`BookingSource` value (``phone``,
    ``walk_in``). The booking is ``confirmed`` at the services' total price (the performer's),
    records a ``created`` event by ``actor`` and emits ``booking.confirmed`` with ``source``
    and ``notify_customer`` (False for a customer without an email).

    Raises:
        UnknownReference: unknown or inactive service, or staff who don't perform it.
        SlotUnavailable: another booking holds the time (``alternatives``: next free starts).
        NeedsOverride: outside working hours, in blocked time, the past or the lead time,
            without ``override``.
        ValueError: an unknown ``source``.
    """
    now = now or utcnow()
    source = BookingSource(source).value
    if start.tzinfo is None:
        raise SlotUnavailable("Give the start time with a time zone offset.")
    start = start.astimezone(UTC)
    service = service_or_raise(service_id)
    services = [service, *(services_or_raise(list(also_service_ids)) if also_service_ids else [])]
    spot = _place(tenant, services, staff_id, start, override=override, now=now)
    booking = Booking(
        service_id=service.id, staff_id=spot.staff_id, customer_id=customer.id, status=BookingStatus.CONFIRMED.value,
        starts_at=spot.start, ends_at=spot.end, blocked_from=spot.blocked_from, blocked_until=spot.blocked_until,
        price_amount=total_price(spot.plans), currency=service.currency,
        customer_timezone=tenant.timezone, notes=(notes or "")[:MAX_NOTES], source=source,
    )
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.flush()
    except IntegrityError as exc:
        if is_overlap(exc):
            raise SlotUnavailable("Sorry, this time was just taken.",
                                  next_free_starts(tenant, service, staff_id, max(start, now),
                                                   also=services[1:])) from exc
        raise
    write_items(booking, spot.plans)
    how = {"phone": "by phone", "walk_in": "walk-in", "online": "online"}[source]
    record_event(booking, "created", None, actor, f"{how}{' (booked anyway)' if override else ''}")
    emit_event("booking.confirmed", booking, actor=actor.kind, source=source,
               notify_customer=bool(notify_customer and customer is not None and customer.email))
    bump_version()
    db.session.flush()
    return booking


@dataclass(frozen=True)
class BookingChanges:
    """What staff changed on a booking. ``None`` keeps the value: ``service_id``,
    ``staff_id``, ``start`` (tz-aware), ``notes``, ``price_amount`` (minor units of the
    booking's currency; a changed service without a price takes the new service's price)."""

    service_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    start: datetime | None = None
    notes: str | None = None
    price_amount: int | None = None


def _when(tenant: Tenant, at: datetime) -> str:
    return at.astimezone(zone(tenant.timezone)).strftime("%a %-d %b %H:%M")


def edit_booking(tenant: Tenant, booking: Booking, changes: BookingChanges, actor: Actor, *,
                 override: bool = False, notify_customer: bool = True, now: datetime | None = None) -> list[str]:
    """Apply staff ``changes`` to ``booking``; returns the changed field names (``service``,
    ``staff``, ``start``, ``notes``, ``price``; empty when nothing changed).

    A move (service, staff or start) needs an active booking and is checked like
    :func:`book_by_staff`, with the booking's own time free. Each change is recorded in the
    booking's history (``rescheduled`` for a move, ``edited`` otherwise, the old and new values
    in the reason) and one ``booking.rescheduled`` outbox event tells the customer
    (``previous_start``, ``previous_staff_id``, ``changes``, ``notify_customer``).

    Raises:
        InvalidTransition: moving a booking that is not active.
        UnknownReference: an unknown service, or staff who don't perform it.
        SlotUnavailable, NeedsOverride: the new time is refused (nothing changes).
        ValueError: a negative price.
    """
    now = now or utcnow()
    old_service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    service = old_service
    old_items = items_of(booking.id)
    if changes.service_id is not None and changes.service_id != booking.service_id:
        service = service_or_raise(changes.service_id)
    staff_id = changes.staff_id or booking.staff_id
    start = changes.start.astimezone(UTC) if changes.start is not None else booking.starts_at
    if changes.start is not None and changes.start.tzinfo is None:
        raise SlotUnavailable("Give the start time with a time zone offset.")
    moved = service is not old_service or staff_id != booking.staff_id or start != booking.starts_at
    if service is None:
        raise UnknownReference("This service does not exist.", "service_id")
    changed: list[str] = []
    notes_parts: list[str] = []
    previous_start, previous_staff = booking.starts_at, booking.staff_id
    if moved:
        if booking.status not in {s.value for s in ACTIVE_STATUSES}:
            raise InvalidTransition("Only a pending or confirmed booking can be moved.")
        services = [service] if service is not old_service else (item_services(booking) or [service])
        spot = _place(tenant, services, staff_id, start, override=override, now=now, exclude_booking_id=booking.id)
        old = (booking.service_id, booking.staff_id, booking.starts_at, booking.ends_at, booking.blocked_from,
               booking.blocked_until)
        try:
            with db.session.begin_nested():
                booking.service_id, booking.staff_id = service.id, spot.staff_id
                booking.starts_at, booking.ends_at = spot.start, spot.end
                booking.blocked_from, booking.blocked_until = spot.blocked_from, spot.blocked_until
                db.session.flush()
                plans = list(spot.plans)
                if service is old_service and len(old_items) == len(plans):
                    # Moved, same services: each keeps the price it was booked at.
                    plans = [PlannedItem(p.service_id, p.name, p.duration_minutes, o.price_amount, p.currency,
                                         p.buffer_before_minutes, p.buffer_after_minutes)
                             for p, o in zip(plans, old_items, strict=True)]
                write_items(booking, plans)
        except IntegrityError as exc:
            (booking.service_id, booking.staff_id, booking.starts_at, booking.ends_at, booking.blocked_from,
             booking.blocked_until) = old
            if is_overlap(exc):
                raise SlotUnavailable("Sorry, this time was just taken.") from exc
            raise
        names = dict(db.session.execute(sa.select(StaffMember.id, StaffMember.name).where(
            StaffMember.id.in_([previous_staff, spot.staff_id]))).all())
        if service is not old_service:
            changed.append("service")
            before = services_label([i.name for i in old_items]) if old_items else (
                old_service.name if old_service else "?")
            notes_parts.append(f"service {before} → {service.name}")
        if spot.staff_id != previous_staff:
            changed.append("staff")
        if spot.start != previous_start:
            changed.append("start")
        if "staff" in changed or "start" in changed:
            record_event(booking, "rescheduled", booking.status, actor,
                         f"from {_when(tenant, previous_start)} with {names.get(previous_staff, '?')} "
                         f"to {_when(tenant, spot.start)} with {names.get(spot.staff_id, '?')}"
                         f"{' (booked anyway)' if override else ''}")
    price = changes.price_amount
    if price is None and "service" in changed:
        price = total_price(spot.plans)
    if price is not None and price != booking.price_amount:
        if price < 0:
            raise ValueError("A price cannot be negative.")
        notes_parts.append(f"price {format_money(booking.price_amount, booking.currency)} → "
                          f"{format_money(price, booking.currency)}")
        booking.price_amount = price
        changed.append("price")
    if changes.notes is not None and changes.notes[:MAX_NOTES] != booking.notes:
        booking.notes = changes.notes[:MAX_NOTES]
        notes_parts.append("notes changed")
        changed.append("notes")
    if notes_parts:
        record_event(booking, "edited", booking.status, actor, "; ".join(notes_parts))
    if changed:
        customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
        emit_event("booking.rescheduled", booking, previous_start=previous_start.isoformat(),
                   previous_staff_id=str(previous_staff), actor=actor.kind, changes=changed,
                   notify_customer=bool(notify_customer and customer is not None and customer.email))
        bump_version()
        db.session.flush()
    return changed
