"""Making bookings: create one for a customer, and confirm a guest's booking by email.

The booking package is split by job; this module keeps every public name of the booking
domain importable from one place (``from app.booking.service import …``):

* :mod:`app.booking.transitions` the state machine (``transition``, ``TRANSITIONS``, the
  automatic moves, ``Actor``);
* :mod:`app.booking.changes` cancel and reschedule by customers and staff;
* :mod:`app.booking.links` the manage link and the email-confirmation link;
* :mod:`app.booking.slots` finding a free performer for a start;
* :mod:`app.booking.queries` read-only queries.

No double booking: the ``booking_no_overlap`` exclusion constraint rejects overlapping
active bookings; the violation becomes :class:`SlotUnavailable`. Functions flush and never
commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from app.booking.changes import (
    cancel_by_customer,
    check_customer_reschedule,
    customer_can_change,
    reschedule_booking,
)
from app.booking.errors import InvalidTransition, SlotUnavailable
from app.booking.items import plan_items, services_or_raise, span_of, total_price, write_items
from app.booking.links import (
    EMAIL_CONFIRM_TTL,
    MANAGE_LINK_DAYS_AFTER,
    booking_from_email_confirm_token,
    booking_from_manage_token,
    email_confirm_token,
    email_confirm_ttl,
    manage_link_days_after,
    manage_link_expired,
    manage_link_expires_at,
    manage_token,
    open_manage_link,
)
from app.booking.models import Booking, BookingStatus, Customer
from app.booking.queries import bookings_between, local_date_range, open_bookings_of
from app.booking.slots import (
    candidate_staff,
    is_overlap,
    is_unique_violation_of,
    next_free_starts,
    select_performer_ids,
    service_or_raise,
    taken_by_booking,
    validate_start,
)
from app.booking.transitions import (
    AFTER_START_ACTIONS,
    AUTO_COMPLETE_AFTER,
    PENDING_TTL,
    SYSTEM,
    TRANSITIONS,
    Actor,
    can_apply,
    emit_event,
    record_event,
    run_automatic_transitions,
    transition,
)
from app.catalog.availability_version import bump_version
from app.catalog.models import Service
from app.extensions import db
from app.identity.service import normalize_email
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.timeutil import utcnow

__all__ = [
    "AFTER_START_ACTIONS", "AUTO_COMPLETE_AFTER", "EMAIL_CONFIRM_TTL", "MANAGE_LINK_DAYS_AFTER", "MAX_NOTES",
    "PENDING_TTL", "SYSTEM", "TRANSITIONS", "Actor", "CustomerInput", "booking_from_email_confirm_token",
    "booking_from_manage_token", "bookings_between", "can_apply", "cancel_by_customer", "check_customer_reschedule",
    "confirm_guest_email", "create_booking", "customer_can_change", "email_confirm_token", "email_confirm_ttl",
    "is_unique_violation_of", "local_date_range", "manage_link_days_after",
    "manage_link_expired", "manage_link_expires_at", "manage_token", "next_free_starts", "open_bookings_of",
    "open_manage_link", "reschedule_booking", "run_automatic_transitions", "select_performer_ids", "transition",
    "upsert_customer",
]

S = BookingStatus
MAX_NOTES = 2000



@dataclass(frozen=True)
class CustomerInput:
    """Validated customer details: name, email, E.164 phone or None, and the language they
    book in (Babel identifier, ``da``; ``None`` when unknown, e.g. at the desk)."""

    name: str
    email: str
    phone: str | None = None
    locale: str | None = None


def upsert_customer(data: CustomerInput, user_id: uuid.UUID | None = None) -> Customer:
    """The tenant's customer with this email, created or updated with the given name/phone.

    One ``INSERT … ON CONFLICT (tenant_id, email) DO UPDATE … RETURNING`` statement, so two
    simultaneous bookings by the same new person both get the one record (the second waits for
    the first's transaction and updates its row) instead of a unique violation. An empty name or
    phone keeps the stored one; an account link (``user_id``) is set once and never replaced.
    Needs a tenant in scope (:class:`~app.tenants.errors.TenantScopeError` otherwise).
    """
    email = normalize_email(data.email)
    stmt = pg_insert(Customer).values(
        tenant_id=require_tenant_id(), id=uuid.uuid4(), name=data.name, email=email, phone=data.phone,
        user_id=user_id, created_at=utcnow(), locale=data.locale)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[Customer.tenant_id, Customer.email],
        set_={"name": sa.func.coalesce(sa.func.nullif(new.name, ""), Customer.name),
              "phone": sa.func.coalesce(sa.func.nullif(new.phone, ""), Customer.phone),
              "user_id": sa.func.coalesce(Customer.user_id, new.user_id),
              "locale": sa.func.coalesce(new.locale, Customer.locale)},
    ).returning(Customer)
    return db.session.scalars(stmt, execution_options={"populate_existing": True}).one()


def create_booking(tenant: Tenant, *, service_id: uuid.UUID, staff_id: uuid.UUID | None, start: datetime,
                   customer: CustomerInput, customer_timezone: str, notes: str = "",
                   actor: Actor | None = None, user_id: uuid.UUID | None = None,
                   now: datetime | None = None, initial_status: BookingStatus | None = None,
                   confirm_email_over: int | None = None,
                   also_service_ids: Sequence[uuid.UUID] = ()) -> Booking:
    """Book ``start`` (tz-aware) for ``service_id`` with ``staff_id`` or anyone free.

    With ``also_service_ids`` the booking holds several services back to back with one staff
    member who performs them all (:mod:`app.booking.items`): its price is their total and its
    span runs from the first one's start to the last one's end (plus the outer buffers).

    The booking is ``pending`` when the tenant confirms by hand, else ``confirmed``, unless
    ``initial_status`` is given (``awaiting_payment`` for a service paid when booking).
    With ``confirm_email_over`` (public guests), a customer email that already has that many
    open future bookings here gets ``awaiting_email`` instead: the slot is not held until the
    guest clicks the emailed link (:func:`confirm_guest_email`), and it lapses after
    :func:`email_confirm_ttl`.
    Writes the booking, its first event and an outbox event in the current transaction.

    Raises:
        UnknownReference: unknown or inactive service, or staff who don't perform it.
        SlotUnavailable: past, inside the lead time, beyond the horizon, outside working
            hours, or taken (including by a concurrent request: the exclusion constraint);
            ``alternatives`` holds the next free starts.
    """
    now = now or utcnow()
    actor = actor or Actor("customer", user_id)
    service = service_or_raise(service_id)
    also = services_or_raise(list(also_service_ids)) if also_service_ids else []
    validate_start(tenant, start, now)
    start = start.astimezone(UTC)
    candidates = candidate_staff(tenant, service, staff_id, start, also)
    if not candidates:
        message = (_("Sorry, this time was just taken.") if taken_by_booking(service, staff_id, start)
                   else "This time is not available.")
        raise SlotUnavailable(message, next_free_starts(tenant, service, staff_id, start, also=also))
    cust = upsert_customer(customer, user_id)
    db.session.flush()
    status = initial_status or (S.PENDING if tenant.requires_confirmation else S.CONFIRMED)
    if (confirm_email_over is not None and status in (S.PENDING, S.CONFIRMED)
            and open_bookings_of(cust.email, now) >= confirm_email_over):
        status = S.AWAITING_EMAIL
    for chosen_staff, _end in candidates:
        plans = plan_items([service, *also], chosen_staff)
        span = span_of(plans, start)
        booking = Booking(
            service_id=service.id, staff_id=chosen_staff, customer_id=cust.id, status=status.value,
            starts_at=span.start, ends_at=span.end, blocked_from=span.blocked_from, blocked_until=span.blocked_until,
            price_amount=total_price(plans), currency=service.currency,
            customer_timezone=customer_timezone, notes=(notes or "")[:MAX_NOTES], locale=customer.locale,
        )
        try:
            with db.session.begin_nested():
                db.session.add(booking)
                db.session.flush()
        except IntegrityError as exc:
            if is_overlap(exc):
                continue
            raise
        write_items(booking, plans, new=True)
        record_event(booking, "created", None, actor)
        emit_event({S.PENDING: "booking.requested", S.AWAITING_PAYMENT: "booking.awaiting_payment",
               S.AWAITING_EMAIL: "booking.awaiting_email"}.get(status, "booking.confirmed"), booking)
        bump_version()
        db.session.flush()
        return booking
    raise SlotUnavailable(_("Sorry, this time was just taken."),
                          next_free_starts(tenant, service, staff_id, start, also=also))


def confirm_guest_email(tenant: Tenant, booking: Booking, now: datetime | None = None) -> Booking:
    """The guest clicked the emailed link: the ``awaiting_email`` booking becomes a normal one
    (``confirmed``, or ``pending`` when the business confirms by hand) and now holds its slot.

    Raises:
        InvalidTransition: not awaiting its email any more (already confirmed, or released).
        SlotUnavailable: someone else booked the time meanwhile (``alternatives`` has the next
            free starts); nothing changes.
    """
    now = now or utcnow()
    if booking.status != S.AWAITING_EMAIL.value or booking.created_at <= now - email_confirm_ttl():
        raise InvalidTransition(_("This booking can no longer be confirmed: the link has expired."))
    action = "confirm_email_request" if tenant.requires_confirmation else "confirm_email"
    try:
        with db.session.begin_nested():
            transition(booking, action, SYSTEM, "the customer confirmed their email address", now=now)
    except IntegrityError as exc:
        if not is_overlap(exc):
            raise
        service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
        raise SlotUnavailable(_("Sorry, this time was booked by someone else before you confirmed."),
                              next_free_starts(tenant, service, None, now) if service else []) from None
    return booking
