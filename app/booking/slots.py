"""Finding a free performer for a start time, and telling a taken slot from a closed one.

Helpers of booking creation and rescheduling over :func:`app.scheduling.service.find_slots`
and the ``booking_no_overlap`` exclusion constraint (its violation means "just taken").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError

from app.booking.errors import SlotUnavailable, UnknownReference
from app.booking.models import ACTIVE_STATUSES, Booking
from app.catalog.models import Service, ServiceStaff
from app.extensions import db
from app.scheduling.service import find_slots
from app.tenants.models import Tenant
from app.timeutil import zone


def is_unique_violation_of(exc: IntegrityError, name: str) -> bool:
    """True when ``exc`` is the violation of constraint ``name``."""
    diag = getattr(exc.orig, "diag", None)
    return diag is not None and getattr(diag, "constraint_name", None) == name


def is_overlap(exc: IntegrityError) -> bool:
    """True when ``exc`` is an exclusion violation (``booking_no_overlap``: the time is taken)."""
    return isinstance(exc.orig, pg_errors.ExclusionViolation)


def next_free_starts(tenant: Tenant, service: Service, staff_id: uuid.UUID | None, after: datetime,
                     limit: int = 3, also: Sequence[Service] = ()) -> list[datetime]:
    """Up to ``limit`` next bookable starts (UTC) at or after ``after``, any staff if ``staff_id`` is None
    (for ``service`` followed by the services ``also``, back to back)."""
    tz = zone(tenant.timezone)
    day = after.astimezone(tz).date()
    out: list[datetime] = []
    for offset in range(0, 28, 7):
        start = day + timedelta(days=offset)
        slots = find_slots(tenant, service, staff_id=staff_id, start_date=start, end_date=start + timedelta(days=6),
                           any_staff_merge=True, also=also)
        out.extend(s.start for s in slots if s.start >= after)
        if len(out) >= limit:
            break
    return sorted(set(out))[:limit]


def service_or_raise(service_id: uuid.UUID) -> Service:
    """The tenant's active service ``service_id``.

    Raises:
        UnknownReference: no active service has the id (``field`` ``service_id``).
    """
    service = db.session.scalar(sa.select(Service).where(Service.id == service_id, Service.active.is_(True)))
    if service is None:
        raise UnknownReference(_("This service does not exist."), "service_id")
    return service


def candidate_staff(tenant: Tenant, service: Service, staff_id: uuid.UUID | None,
                    start: datetime, also: Sequence[Service] = ()) -> list[tuple[uuid.UUID, datetime]]:
    """Staff free at ``start`` for ``service`` (followed by the services ``also``, back to back)
    with their end time (UTC, the last service's end), preferred first.

    Raises:
        UnknownReference: ``staff_id`` does not perform the service(s) (``field`` ``staff_id``).
    """
    if staff_id is not None:
        wanted = {service.id, *(s.id for s in also)}
        performs = set(db.session.scalars(sa.select(ServiceStaff.service_id).where(
            ServiceStaff.service_id.in_(wanted), ServiceStaff.staff_id == staff_id)))
        if performs != wanted:
            raise UnknownReference(_("This staff member does not perform this service."), "staff_id")
    tz = zone(tenant.timezone)
    local_day = start.astimezone(tz).date()
    slots = find_slots(tenant, service, staff_id=staff_id, start_date=local_day, end_date=local_day, also=also)
    return [(uuid.UUID(s.staff_id), s.end) for s in slots if s.start == start]


def taken_by_booking(service: Service, staff_id: uuid.UUID | None, start: datetime) -> bool:
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


def validate_start(tenant: Tenant, start: datetime, now: datetime) -> None:
    """Check that ``start`` is tz-aware, in the future, after the lead time and inside the
    horizon of ``tenant``.

    Raises:
        SlotUnavailable: with the reason as message.
    """
    if start.tzinfo is None:
        raise SlotUnavailable(_("Give the start time with a time zone offset."))
    if start <= now:
        raise SlotUnavailable(_("This time is in the past."))
    if start < now + timedelta(minutes=tenant.lead_time_minutes):
        raise SlotUnavailable(_("Bookings need at least %(minutes)d minutes' notice.", minutes=tenant.lead_time_minutes))
    if start >= now + timedelta(days=tenant.horizon_days):
        raise SlotUnavailable(_("Bookings open at most %(days)d days ahead.", days=tenant.horizon_days))
