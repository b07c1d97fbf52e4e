"""Booking lifecycle: create, confirm, cancel, reschedule, complete, no-show, automatic moves.

Every state change goes through :func:`transition`, which consults the single
:data:`TRANSITIONS` table, records a :class:`BookingEvent` and writes an
:class:`OutboxEvent` in the same transaction. Functions flush and never commit.
No double booking: the ``booking_no_overlap`` exclusion constraint rejects overlapping
active bookings; the violation becomes :class:`SlotUnavailable`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError

from app.booking.errors import (
    CutoffPassed,
    InvalidTransition,
    ManageLinkExpired,
    SlotUnavailable,
    UnknownReference,
)
from app.booking.models import ACTIVE_STATUSES, Booking, BookingEvent, BookingStatus, Customer
from app.catalog.models import Service, ServiceStaff
from app.extensions import db
from app.identity.service import make_token, normalize_email, read_token
from app.notifications.models import OutboxEvent
from app.scheduling.cache import bump_version
from app.scheduling.service import find_slots
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone

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
#: How long a guest has to click the emailed link of an ``awaiting_email`` booking by default
#: (``GUEST_CONFIRM_MINUTES``).
EMAIL_CONFIRM_TTL = timedelta(minutes=30)
AUTO_COMPLETE_AFTER = timedelta(days=7)
MAX_NOTES = 2000


@dataclass(frozen=True)
class Actor:
    """Who acts: ``kind`` is ``customer``, ``staff`` or ``system``; ``user_id`` when known."""

    kind: str
    user_id: uuid.UUID | None = None


SYSTEM = Actor("system")


@dataclass(frozen=True)
class CustomerInput:
    """Validated customer details: name, email, E.164 phone or None."""

    name: str
    email: str
    phone: str | None = None


def _emit(kind: str, booking: Booking, **extra: object) -> None:
    db.session.add(OutboxEvent(kind=kind, payload={"booking_id": str(booking.id), **extra}))


def _record(booking: Booking, kind: str, from_status: str | None, actor: Actor, reason: str = "") -> None:
    db.session.add(BookingEvent(booking_id=booking.id, kind=kind, from_status=from_status, to_status=booking.status,
                                actor=actor.kind, actor_user_id=actor.user_id, reason=reason[:500]))


def is_unique_violation_of(exc: IntegrityError, name: str) -> bool:
    """True when ``exc`` is the violation of constraint ``name``."""
    diag = getattr(exc.orig, "diag", None)
    return diag is not None and getattr(diag, "constraint_name", None) == name


def _is_overlap(exc: IntegrityError) -> bool:
    return isinstance(exc.orig, pg_errors.ExclusionViolation)


def upsert_customer(data: CustomerInput, user_id: uuid.UUID | None = None) -> Customer:
    """The tenant's customer with this email, created or updated with the given name/phone."""
    email = normalize_email(data.email)
    customer = db.session.scalar(sa.select(Customer).where(Customer.email == email))
    if customer is None:
        customer = Customer(name=data.name, email=email, phone=data.phone, user_id=user_id)
        db.session.add(customer)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            customer = db.session.scalar(sa.select(Customer).where(Customer.email == email))
            assert customer is not None
    else:
        customer.name = data.name or customer.name
        customer.phone = data.phone or customer.phone
        if user_id and customer.user_id is None:
            customer.user_id = user_id
    return customer


def next_free_starts(tenant: Tenant, service: Service, staff_id: uuid.UUID | None, after: datetime,
                     limit: int = 3) -> list[datetime]:
    """Up to ``limit`` next bookable starts (UTC) at or after ``after``, any staff if ``staff_id`` is None."""
    tz = zone(tenant.timezone)
    day = after.astimezone(tz).date()
    out: list[datetime] = []
    for offset in range(0, 28, 7):
        start = day + timedelta(days=offset)
        slots = find_slots(tenant, service, staff_id=staff_id, start_date=start, end_date=start + timedelta(days=6),
                           any_staff_merge=True)
        out.extend(s.start for s in slots if s.start >= after)
        if len(out) >= limit:
            break
    return sorted(set(out))[:limit]


def _service_or_raise(service_id: uuid.UUID) -> Service:
    service = db.session.scalar(sa.select(Service).where(Service.id == service_id, Service.active.is_(True)))
    if service is None:
        raise UnknownReference("This service does not exist.", "service_id")
    return service


def _candidate_staff(tenant: Tenant, service: Service, staff_id: uuid.UUID | None, start: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """Staff free at ``start`` for ``service`` (with their end time), preferred first."""
    if staff_id is not None:
        exists = db.session.scalar(sa.select(ServiceStaff.staff_id).where(
            ServiceStaff.service_id == service.id, ServiceStaff.staff_id == staff_id))
        if exists is None:
            raise UnknownReference("This staff member does not perform this service.", "staff_id")
    tz = zone(tenant.timezone)
    local_day = start.astimezone(tz).date()
    slots = find_slots(tenant, service, staff_id=staff_id, start_date=local_day, end_date=local_day)
    return [(uuid.UUID(s.staff_id), s.end) for s in slots if s.start == start]


def _taken_by_booking(service: Service, staff_id: uuid.UUID | None, start: datetime) -> bool:
    """True when an active booking of a performer overlaps ``start`` (so the time was taken,
    rather than never open)."""
    blocked_from = start - timedelta(minutes=service.buffer_before_minutes)
    blocked_until = start + timedelta(minutes=service.duration_minutes + service.buffer_after_minutes)
    staff = [staff_id] if staff_id else select_performer_ids(service.id)
    return db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.staff_id.in_(staff), Booking.status.in_([s.value for s in ACTIVE_STATUSES]),
        Booking.blocked_from < blocked_until, Booking.blocked_until > blocked_from)) > 0


def select_performer_ids(service_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of the staff who perform ``service_id`` in the current tenant."""
    return list(db.session.scalars(sa.select(ServiceStaff.staff_id).where(ServiceStaff.service_id == service_id)))


def _validate_start(tenant: Tenant, start: datetime, now: datetime) -> None:
    if start.tzinfo is None:
        raise SlotUnavailable("Give the start time with a time zone offset.")
    if start <= now:
        raise SlotUnavailable("This time is in the past.")
    if start < now + timedelta(minutes=tenant.lead_time_minutes):
        raise SlotUnavailable(f"Bookings need at least {tenant.lead_time_minutes} minutes' notice.")
    if start >= now + timedelta(days=tenant.horizon_days):
        raise SlotUnavailable(f"Bookings open at most {tenant.horizon_days} days ahead.")


def create_booking(tenant: Tenant, *, service_id: uuid.UUID, staff_id: uuid.UUID | None, start: datetime,
                   customer: CustomerInput, customer_timezone: str, notes: str = "",
                   actor: Actor | None = None, user_id: uuid.UUID | None = None,
                   now: datetime | None = None, initial_status: BookingStatus | None = None,
                   confirm_email_over: int | None = None) -> Booking:
    """Book ``start`` (tz-aware) for ``service_id`` with ``staff_id`` or anyone free.

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
    service = _service_or_raise(service_id)
    _validate_start(tenant, start, now)
    start = start.astimezone(UTC)
    candidates = _candidate_staff(tenant, service, staff_id, start)
    if not candidates:
        message = ("Sorry, this time was just taken." if _taken_by_booking(service, staff_id, start)
                   else "This time is not available.")
        raise SlotUnavailable(message, next_free_starts(tenant, service, staff_id, start))
    cust = upsert_customer(customer, user_id)
    db.session.flush()
    status = initial_status or (S.PENDING if tenant.requires_confirmation else S.CONFIRMED)
    if (confirm_email_over is not None and status in (S.PENDING, S.CONFIRMED)
            and open_bookings_of(cust.email, now) >= confirm_email_over):
        status = S.AWAITING_EMAIL
    price = service.price_amount
    for chosen_staff, end in candidates:
        override = db.session.scalar(sa.select(ServiceStaff.price_amount).where(
            ServiceStaff.service_id == service.id, ServiceStaff.staff_id == chosen_staff))
        booking = Booking(
            service_id=service.id, staff_id=chosen_staff, customer_id=cust.id, status=status.value,
            starts_at=start, ends_at=end,
            blocked_from=start - timedelta(minutes=service.buffer_before_minutes),
            blocked_until=end + timedelta(minutes=service.buffer_after_minutes),
            price_amount=override if override is not None else price, currency=service.currency,
            customer_timezone=customer_timezone, notes=(notes or "")[:MAX_NOTES],
        )
        try:
            with db.session.begin_nested():
                db.session.add(booking)
                db.session.flush()
        except IntegrityError as exc:
            if _is_overlap(exc):
                continue
            raise
        _record(booking, "created", None, actor)
        _emit({S.PENDING: "booking.requested", S.AWAITING_PAYMENT: "booking.awaiting_payment",
               S.AWAITING_EMAIL: "booking.awaiting_email"}.get(status, "booking.confirmed"), booking)
        bump_version()
        db.session.flush()
        return booking
    raise SlotUnavailable("Sorry, this time was just taken.", next_free_starts(tenant, service, staff_id, start))


def open_bookings_of(email: str, now: datetime | None = None) -> int:
    """How many pending or confirmed bookings that have not started yet the customer with
    ``email`` has in the current tenant."""
    now = now or utcnow()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Booking).join(
        Customer, Customer.id == Booking.customer_id).where(
        Customer.email == normalize_email(email), Booking.starts_at > now,
        Booking.status.in_([S.PENDING.value, S.CONFIRMED.value]))) or 0


def email_confirm_ttl() -> timedelta:
    """How long an ``awaiting_email`` booking waits for its link (``GUEST_CONFIRM_MINUTES``
    from the app config when there is one, else :data:`EMAIL_CONFIRM_TTL`)."""
    from flask import current_app, has_app_context

    minutes = current_app.config.get("GUEST_CONFIRM_MINUTES") if has_app_context() else None
    return timedelta(minutes=int(minutes)) if minutes else EMAIL_CONFIRM_TTL


def email_confirm_token(tenant_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    """Signed token of the "confirm your booking" link of an ``awaiting_email`` booking."""
    return make_token("confirm-booking-email", {"t": str(tenant_id), "b": str(booking_id)})


def booking_from_email_confirm_token(token: str) -> Booking | None:
    """The current tenant's booking ``token`` (from :func:`email_confirm_token`) was made for,
    or ``None`` when the token is forged, for another business, or older than the expiry."""
    from app.identity.service import TokenError
    from app.tenants.context import current_tenant_id

    try:
        data = read_token("confirm-booking-email", token, max_age_seconds=int(email_confirm_ttl().total_seconds()))
    except TokenError:
        return None
    if data.get("t") != str(current_tenant_id()):
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(data["b"])))


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
        raise InvalidTransition("This booking can no longer be confirmed: the link has expired.")
    action = "confirm_email_request" if tenant.requires_confirmation else "confirm_email"
    try:
        with db.session.begin_nested():
            transition(booking, action, SYSTEM, "the customer confirmed their email address", now=now)
    except IntegrityError as exc:
        if not _is_overlap(exc):
            raise
        service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
        raise SlotUnavailable("Sorry, this time was booked by someone else before you confirmed.",
                              next_free_starts(tenant, service, None, now) if service else []) from None
    return booking


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
    _record(booking, action, current.value, actor, reason)
    _emit(f"booking.{_event_name(action)}", booking, actor=actor.kind)
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


def customer_can_change(tenant: Tenant, booking: Booking, now: datetime | None = None) -> bool:
    """True while the customer may still cancel or reschedule (before the cut-off, active)."""
    now = now or utcnow()
    return (booking.status in {s.value for s in ACTIVE_STATUSES}
            and now < booking.starts_at - timedelta(hours=tenant.cancellation_cutoff_hours))


def cancel_by_customer(tenant: Tenant, booking: Booking, reason: str = "", now: datetime | None = None,
                       user_id: uuid.UUID | None = None) -> Booking:
    """Customer cancels through the manage link or their account.

    Raises:
        CutoffPassed: within the cut-off before the start.
        InvalidTransition: the booking is not active.
    """
    if booking.status not in {s.value for s in ACTIVE_STATUSES}:
        raise InvalidTransition("This booking is no longer active.")
    if not customer_can_change(tenant, booking, now):
        raise CutoffPassed(f"Bookings can be cancelled online until {tenant.cancellation_cutoff_hours} hours "
                           "before the start. Please contact the business.")
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
        raise InvalidTransition("This booking is no longer active.")
    if not customer_can_change(tenant, booking, now):
        raise CutoffPassed(f"Bookings can be changed online until {tenant.cancellation_cutoff_hours} hours "
                           "before the start. Please contact the business.")


def reschedule_booking(tenant: Tenant, booking: Booking, new_start: datetime, actor: Actor,
                       staff_id: uuid.UUID | None = None, now: datetime | None = None) -> Booking:
    """Move an active booking to ``new_start`` (same staff unless ``staff_id`` given). The
    ``booking.rescheduled`` outbox event carries ``previous_start`` (ISO 8601) and ``actor``.

    Raises:
        CutoffPassed: a customer past the cut-off.
        InvalidTransition: the booking is not active.
        SlotUnavailable: the new time is not free.
    """
    now = now or utcnow()
    if booking.status not in {s.value for s in ACTIVE_STATUSES}:
        raise InvalidTransition("This booking is no longer active.")
    if actor.kind == "customer":
        check_customer_reschedule(tenant, booking, now)
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    assert service is not None
    _validate_start(tenant, new_start, now)
    new_start = new_start.astimezone(UTC)
    target_staff = staff_id or booking.staff_id
    # Free this booking's own time while checking, so moving by a few minutes works.
    old = (booking.starts_at, booking.ends_at, booking.blocked_from, booking.blocked_until)
    duration = booking.ends_at - booking.starts_at
    booking.status_before = booking.status  # type: ignore[attr-defined]
    candidates = [c for c in _candidate_staff_excluding(tenant, service, target_staff, new_start, booking)]
    if not candidates:
        raise SlotUnavailable("This time is not available.", next_free_starts(tenant, service, target_staff, new_start))
    chosen_staff, end = candidates[0]
    try:
        with db.session.begin_nested():
            booking.staff_id = chosen_staff
            booking.starts_at = new_start
            booking.ends_at = end if end else new_start + duration
            booking.blocked_from = new_start - timedelta(minutes=service.buffer_before_minutes)
            booking.blocked_until = booking.ends_at + timedelta(minutes=service.buffer_after_minutes)
            db.session.flush()
    except IntegrityError as exc:
        booking.starts_at, booking.ends_at, booking.blocked_from, booking.blocked_until = old
        if _is_overlap(exc):
            raise SlotUnavailable("Sorry, this time was just taken.",
                                  next_free_starts(tenant, service, target_staff, new_start)) from exc
        raise
    _record(booking, "rescheduled", booking.status, actor, f"from {old[0].isoformat()}")
    _emit("booking.rescheduled", booking, previous_start=old[0].isoformat(), actor=actor.kind)
    bump_version()
    db.session.flush()
    return booking


def _candidate_staff_excluding(tenant: Tenant, service: Service, staff_id: uuid.UUID, start: datetime,
                               booking: Booking) -> list[tuple[uuid.UUID, datetime]]:
    """Like :func:`_candidate_staff` but treating ``booking``'s own time as free."""
    saved = booking.status
    with db.session.no_autoflush:
        db.session.execute(sa.update(Booking).where(Booking.id == booking.id).values(status="cancelled")
                           .execution_options(synchronize_session=False))
        try:
            return _candidate_staff(tenant, service, staff_id, start)
        finally:
            db.session.execute(sa.update(Booking).where(Booking.id == booking.id).values(status=saved)
                               .execution_options(synchronize_session=False))


def manage_token(booking: Booking) -> str:
    """Signed token for the booking's manage link (identifies tenant and booking). It opens the
    booking until :func:`manage_link_expires_at`."""
    return make_token("manage-booking", {"t": str(booking.tenant_id), "b": str(booking.id)})


#: Default of ``MANAGE_LINK_DAYS_AFTER``: days after a booking's end its manage link keeps working.
MANAGE_LINK_DAYS_AFTER = 30


def manage_link_days_after() -> int:
    """``MANAGE_LINK_DAYS_AFTER`` (whole days, at least 0) from the app config."""
    return max(0, int(current_app.config.get("MANAGE_LINK_DAYS_AFTER", MANAGE_LINK_DAYS_AFTER)))


def manage_link_expires_at(booking: Booking) -> datetime:
    """When ``booking``'s manage link stops working: ``MANAGE_LINK_DAYS_AFTER`` days after the
    booking's end (tz-aware UTC). A reschedule moves it with the booking."""
    return booking.ends_at + timedelta(days=manage_link_days_after())


def manage_link_expired(booking: Booking, now: datetime | None = None) -> bool:
    """True when ``booking``'s manage link no longer works at ``now`` (default: the current time)."""
    return (now or utcnow()) >= manage_link_expires_at(booking)


def open_manage_link(token: str, now: datetime | None = None) -> Booking | None:
    """The booking of the current tenant that ``token`` was made for, or ``None`` (not a
    string, bad signature, another tenant's booking, a missing booking).

    Raises:
        ManageLinkExpired: a genuine link of a booking that ended more than
            ``MANAGE_LINK_DAYS_AFTER`` days before ``now`` (pages say the link has expired).
    """
    from app.identity.service import TokenError
    from app.tenants.context import current_tenant_id

    if not isinstance(token, str) or not token or len(token) > 1024:
        return None
    try:
        data = read_token("manage-booking", token, max_age_seconds=400 * 24 * 3600)
    except TokenError:
        return None
    try:
        if data.get("t") != str(current_tenant_id()):
            return None
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(str(data["b"]))))
    except (AttributeError, KeyError, ValueError):
        return None
    if booking is not None and manage_link_expired(booking, now):
        raise ManageLinkExpired("This link has expired: it worked until "
                                f"{manage_link_days_after()} days after the appointment.")
    return booking


def booking_from_manage_token(token: str, now: datetime | None = None) -> Booking | None:
    """The booking of the current tenant that ``token`` was made for while its link works,
    else ``None`` (an expired link answers like an invalid one; see :func:`open_manage_link`)."""
    try:
        return open_manage_link(token, now)
    except ManageLinkExpired:
        return None


def bookings_between(start: datetime, end: datetime, staff_id: uuid.UUID | None = None,
                     include_cancelled: bool = False) -> list[Booking]:
    """Bookings of the current tenant starting in ``[start, end)`` (UTC), by start time.

    Guest bookings still awaiting email confirmation hold nothing and are left out, like
    cancelled ones unless ``include_cancelled``."""
    q = sa.select(Booking).where(Booking.starts_at >= start, Booking.starts_at < end).order_by(Booking.starts_at)
    if staff_id:
        q = q.where(Booking.staff_id == staff_id)
    if not include_cancelled:
        q = q.where(Booking.status.not_in([S.CANCELLED.value, S.AWAITING_EMAIL.value]))
    return list(db.session.scalars(q))


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


def local_date_range(tenant: Tenant, day: date, days: int = 1) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at ``day`` and ``day + days`` in the tenant's zone."""
    tz = zone(tenant.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=days), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return start, end
