"""The services of a booking: several services booked back to back with one staff member.

A booking of "Cut + Colour" has two :class:`~app.booking.models.BookingItem` rows, in order;
the first starts at the booking's start, each next one when the previous ends, and the
booking's ``ends_at`` is the last one's end. Its blocked range widens the whole span by the
FIRST service's buffer before and the LAST one's buffer after (buffers between the services
of one booking are not kept: the same customer stays in the chair), so the
``booking_no_overlap`` exclusion constraint still covers every item. Availability checks the
whole span (:func:`app.scheduling.service.chain_spec`).

Durations are whole minutes (the performer's override, else the service's); prices are integer
minor units of the service's ISO 4217 currency (the performer's price, else the list price).
Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.booking.errors import UnknownReference
from app.booking.models import Booking, BookingItem
from app.catalog.models import Service, ServiceStaff
from app.extensions import db

#: The most services one booking may hold.
MAX_ITEMS = 5


@dataclass(frozen=True)
class PlannedItem:
    """One service of a booking about to be written: ``service_id``, ``name``,
    ``duration_minutes`` (with the performer), ``price_amount`` (minor units of ``currency``,
    with the performer) and the service's buffers (minutes)."""

    service_id: uuid.UUID
    name: str
    duration_minutes: int
    price_amount: int
    currency: str
    buffer_before_minutes: int
    buffer_after_minutes: int


@dataclass(frozen=True)
class Span:
    """Where a chain of items lies: appointment ``start``/``end`` and the blocked range
    (buffers included), all tz-aware UTC."""

    start: datetime
    end: datetime
    blocked_from: datetime
    blocked_until: datetime


def services_or_raise(service_ids: Sequence[uuid.UUID]) -> list[Service]:
    """The tenant's active services ``service_ids``, in the given order (a service may repeat).

    Raises:
        UnknownReference: no id, more than :data:`MAX_ITEMS`, or an id that is not an active
            service (``field`` ``service_id``).
    """
    if not service_ids:
        raise UnknownReference(_("Choose a service."), "service_id")
    if len(service_ids) > MAX_ITEMS:
        raise UnknownReference(_("Book at most %(max)d services at once.", max=MAX_ITEMS), "service_id")
    found = {s.id: s for s in db.session.scalars(sa.select(Service).where(
        Service.id.in_(set(service_ids)), Service.active.is_(True)))}
    missing = [sid for sid in service_ids if sid not in found]
    if missing:
        raise UnknownReference(_("This service does not exist."), "service_id")
    return [found[sid] for sid in service_ids]


def plan_items(services: Sequence[Service], staff_id: uuid.UUID) -> list[PlannedItem]:
    """The items of ``services`` performed by ``staff_id``: each with the performer's duration
    and price override when set, else the service's."""
    overrides = {row.service_id: row for row in db.session.scalars(sa.select(ServiceStaff).where(
        ServiceStaff.staff_id == staff_id, ServiceStaff.service_id.in_([s.id for s in services])))}
    plans = []
    for service in services:
        own = overrides.get(service.id)
        duration = own.duration_minutes if own is not None and own.duration_minutes else service.duration_minutes
        price = own.price_amount if own is not None and own.price_amount is not None else service.price_amount
        plans.append(PlannedItem(service.id, service.name, duration, price, service.currency,
                                 service.buffer_before_minutes, service.buffer_after_minutes))
    return plans


def span_of(plans: Sequence[PlannedItem | BookingItem], start: datetime) -> Span:
    """The span of ``plans`` (in order) starting at ``start`` (tz-aware): the sum of their
    durations, widened by the first one's buffer before and the last one's buffer after."""
    end = start + timedelta(minutes=sum(p.duration_minutes for p in plans))
    return Span(start, end, start - timedelta(minutes=plans[0].buffer_before_minutes),
                end + timedelta(minutes=plans[-1].buffer_after_minutes))


def total_price(plans: Iterable[PlannedItem | BookingItem]) -> int:
    """The sum of the items' prices (minor units; one currency per business)."""
    return sum(p.price_amount for p in plans)


def write_items(booking: Booking, plans: Sequence[PlannedItem], *, new: bool = False) -> list[BookingItem]:
    """Replace the items of ``booking`` (flushed, so it has an id) with ``plans``, in order;
    ``new``: the booking was inserted in this unit of work, so it has none to delete (one
    statement less per booking)."""
    if not new:
        db.session.execute(sa.delete(BookingItem).where(BookingItem.booking_id == booking.id)
                           .execution_options(synchronize_session=False))
    rows = [BookingItem(booking_id=booking.id, service_id=p.service_id, position=i, name=p.name,
                        duration_minutes=p.duration_minutes, price_amount=p.price_amount, currency=p.currency,
                        buffer_before_minutes=p.buffer_before_minutes, buffer_after_minutes=p.buffer_after_minutes)
            for i, p in enumerate(plans)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def items_of(booking_id: uuid.UUID) -> list[BookingItem]:
    """The items of one booking, in order (empty for an unknown booking)."""
    return list(db.session.scalars(sa.select(BookingItem).where(BookingItem.booking_id == booking_id)
                                   .order_by(BookingItem.position)))


def items_by_booking(booking_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[BookingItem]]:
    """Booking id -> its items in order, for many bookings in one query (a booking without
    items is absent)."""
    ids = list(set(booking_ids))
    out: dict[uuid.UUID, list[BookingItem]] = {}
    if not ids:
        return out
    for item in db.session.scalars(sa.select(BookingItem).where(BookingItem.booking_id.in_(ids))
                                   .order_by(BookingItem.booking_id, BookingItem.position)):
        out.setdefault(item.booking_id, []).append(item)
    return out


def item_services(booking: Booking) -> list[Service]:
    """The services of ``booking``'s items in order (any still existing, active or not); just
    its own service for a booking without items. Services deleted since are left out."""
    ids = [i.service_id for i in items_of(booking.id)] or [booking.service_id]
    found = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(set(ids))))}
    return [found[i] for i in ids if i in found]


def services_label(names: Sequence[str]) -> str:
    """The services' names joined for a title: ``"Cut + Colour"``."""
    return " + ".join(names)


def item_times(booking: Booking, items: Sequence[BookingItem]) -> list[tuple[BookingItem, datetime, datetime]]:
    """Each item with its start and end (UTC), back to back from ``booking.starts_at``."""
    out = []
    at = booking.starts_at
    for item in items:
        end = at + timedelta(minutes=item.duration_minutes)
        out.append((item, at, end))
        at = end
    return out
