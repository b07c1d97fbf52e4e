"""Booking with money, for the storefront: what a service costs and lasts with a chosen staff
member, placing a booking that may have to be paid first, and a customer moving a booking
under the business's money policy.

Tenant in scope; functions flush and never commit (the request commits once, or rolls back
when placing fails, so a booking whose payment could not start is never kept).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.booking.errors import RescheduleLocked
from app.booking.models import Booking, BookingStatus
from app.booking.service import Actor, CustomerInput, check_customer_reschedule, create_booking, reschedule_booking
from app.catalog.models import Service, ServiceStaff, StaffMember
from app.checkout.pay import start_payment_hold
from app.checkout.policy import initial_status_for, reschedule_refusal
from app.extensions import db
from app.scheduling.service import performers
from app.tenants.models import Tenant
from app.timeutil import utcnow


@dataclass(frozen=True)
class Quote:
    """What a service costs and lasts with a staff choice: ``price`` (minor units of the
    service's currency), ``varies`` (True for "anyone" when some staff charge another price)
    and ``duration`` (whole minutes)."""

    price: int
    varies: bool
    duration: int


def quote(service: Service, staff: StaffMember | None, also: Sequence[Service] = ()) -> Quote:
    """The price and duration of ``service`` with ``staff`` (their overrides, else the
    service's), or with anyone (``staff`` None: the list price, ``varies`` when overrides exist).
    With ``also`` (more services after it, back to back): the totals of them all."""
    if also:
        parts = [quote(s, staff) for s in (service, *also)]
        return Quote(sum(p.price for p in parts), any(p.varies for p in parts), sum(p.duration for p in parts))
    overrides = dict(db.session.execute(sa.select(ServiceStaff.staff_id, ServiceStaff.price_amount).where(
        ServiceStaff.service_id == service.id, ServiceStaff.price_amount.is_not(None))).all())
    duration = service.duration_minutes
    if staff is not None:
        duration = performers(service.id).get(staff.id) or duration
        return Quote(overrides.get(staff.id, service.price_amount), False, duration)
    return Quote(service.price_amount, bool(overrides), duration)


def place_booking(tenant: Tenant, service: Service, *, staff_id: uuid.UUID | None, start: datetime,
                  customer: CustomerInput, customer_timezone: str, notes: str = "",
                  user_id: uuid.UUID | None = None, confirm_email_over: int | None = None,
                  also: Sequence[Service] = ()) -> Booking:
    """Book ``start`` (tz-aware) for ``service`` (then the services ``also``, back to back, with
    one staff member: :func:`app.booking.service.create_booking`); when
    the service must be paid at booking (:func:`app.checkout.policy.initial_status_for`) the
    booking starts ``awaiting_payment`` and its payment hold is started with Stripe
    (:func:`app.checkout.pay.start_payment_hold`; nothing to pay confirms it at once).

    Raises:
        SlotUnavailable: the time is not bookable (``alternatives``: the next free starts).
        UnknownReference: unknown or inactive service, or staff who don't perform it.
        PaymentUnavailable: Stripe refused or is unreachable; the caller must roll back, so
            the slot is not held by a booking nobody can pay.
    """
    initial_status = initial_status_for(service, also)
    booking = create_booking(tenant, service_id=service.id, staff_id=staff_id, start=start, customer=customer,
                             customer_timezone=customer_timezone, notes=notes, user_id=user_id,
                             initial_status=initial_status, confirm_email_over=confirm_email_over,
                             also_service_ids=[s.id for s in also])
    if initial_status is not None:
        start_payment_hold(tenant, booking)
    return booking


def awaits_payment(booking: Booking) -> bool:
    """True while ``booking`` waits for its pay step."""
    return booking.status == BookingStatus.AWAITING_PAYMENT.value


def late_reschedule_refusal(tenant: Tenant, booking: Booking, now: datetime | None = None) -> str | None:
    """Why the customer may not move ``booking`` themselves at ``now`` under the business's money
    policy (its free-cancellation deadline has passed and it holds money), or ``None``
    (:func:`app.checkout.policy.reschedule_refusal`). Staff are never limited by it."""
    return reschedule_refusal(tenant, booking, now or utcnow())


def check_customer_money_reschedule(tenant: Tenant, booking: Booking, now: datetime | None = None) -> None:
    """Raise unless the customer may move ``booking`` themselves now: the booking rules
    (:func:`app.booking.service.check_customer_reschedule`) and the money policy.

    Raises:
        InvalidTransition: the booking is not active.
        CutoffPassed: within the cut-off before the start.
        RescheduleLocked: past the free-cancellation deadline of a booking holding money
            (:func:`late_reschedule_refusal`); the message says they can still cancel.
    """
    now = now or utcnow()
    check_customer_reschedule(tenant, booking, now)
    refusal = late_reschedule_refusal(tenant, booking, now)
    if refusal:
        raise RescheduleLocked(refusal)


def reschedule_by_customer(tenant: Tenant, booking: Booking, new_start: datetime, user_id: uuid.UUID | None = None,
                           now: datetime | None = None) -> Booking:
    """The customer moves ``booking`` to ``new_start``: :func:`check_customer_money_reschedule`,
    then :func:`app.booking.service.reschedule_booking` as the customer. Nothing changes on error.

    Raises:
        CutoffPassed, RescheduleLocked, InvalidTransition, SlotUnavailable: as those two functions.
    """
    now = now or utcnow()
    check_customer_money_reschedule(tenant, booking, now)
    return reschedule_booking(tenant, booking, new_start, Actor("customer", user_id), now=now)
