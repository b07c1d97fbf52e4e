"""Availability from the database: load schedules, call the pure function, cache in Redis."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import redis
import sqlalchemy as sa
from flask import current_app

from app.booking.models import ACTIVE_STATUSES, Booking
from app.catalog.models import DateOverride, Service, ServiceStaff, StaffMember, TimeOff, WorkingHours
from app.extensions import db
from app.scheduling.availability import (
    BookingRules,
    Interval,
    ServiceSpec,
    Slot,
    StaffSchedule,
    TimeRange,
    compute_slots,
    merge_any_staff,
)
from app.scheduling.cache import cache_get, cache_set
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone

MAX_RANGE_DAYS = 62


class AvailabilityError(ValueError):
    """Bad availability query (unknown service or staff, bad dates); ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def performers(service_id: uuid.UUID) -> dict[uuid.UUID, int | None]:
    """Active staff performing ``service_id`` -> their duration override (minutes) or None."""
    rows = db.session.execute(
        sa.select(ServiceStaff.staff_id, ServiceStaff.duration_minutes)
        .join(StaffMember, sa.and_(StaffMember.id == ServiceStaff.staff_id,
                                   StaffMember.tenant_id == ServiceStaff.tenant_id))
        .where(ServiceStaff.service_id == service_id, StaffMember.active.is_(True))
        .order_by(StaffMember.position, StaffMember.name)
    )
    return {sid: dur for sid, dur in rows}


def load_schedules(staff_durations: dict[uuid.UUID, int | None], start: datetime, end: datetime) -> list[StaffSchedule]:
    """Build :class:`StaffSchedule` inputs for the staff in ``staff_durations`` over ``[start, end)`` UTC.

    Busy intervals are time off plus active bookings' blocked ranges.
    """
    ids = list(staff_durations)
    if not ids:
        return []
    weekly: dict[uuid.UUID, dict[int, list[TimeRange]]] = defaultdict(lambda: defaultdict(list))
    for row in db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id.in_(ids))):
        weekly[row.staff_id][row.weekday].append(TimeRange(row.start_time, row.end_time))
    overrides: dict[uuid.UUID, dict[date, list[TimeRange]]] = defaultdict(lambda: defaultdict(list))
    lo, hi = (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    for row in db.session.scalars(sa.select(DateOverride).where(
            DateOverride.staff_id.in_(ids), DateOverride.on_date.between(lo, hi))):
        day = overrides[row.staff_id][row.on_date]
        if row.start_time is not None and row.end_time is not None:
            day.append(TimeRange(row.start_time, row.end_time))
    busy: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for sid, s, e in db.session.execute(sa.select(TimeOff.staff_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.staff_id.in_(ids), TimeOff.starts_at < end, TimeOff.ends_at > start)):
        busy[sid].append(Interval(s.astimezone(UTC), e.astimezone(UTC)))
    for sid, s, e in db.session.execute(
            sa.select(Booking.staff_id, Booking.blocked_from, Booking.blocked_until).where(
                Booking.staff_id.in_(ids), Booking.status.in_([s.value for s in ACTIVE_STATUSES]),
                Booking.blocked_from < end, Booking.blocked_until > start)):
        busy[sid].append(Interval(s.astimezone(UTC), e.astimezone(UTC)))
    return [
        StaffSchedule(staff_id=str(sid), weekly={k: tuple(v) for k, v in weekly[sid].items()},
                      overrides={k: tuple(v) for k, v in overrides[sid].items()},
                      busy=tuple(busy[sid]), duration_minutes=staff_durations[sid])
        for sid in ids
    ]


def find_slots(tenant: Tenant, service: Service, *, staff_id: uuid.UUID | None, start_date: date,
               end_date: date, now: datetime | None = None, any_staff_merge: bool = False) -> list[Slot]:
    """Bookable slots of ``service`` between two dates (inclusive, the business's zone).

    With ``staff_id`` only that staff member's slots; otherwise every performer's, or one
    per start time when ``any_staff_merge``. Lead time and horizon are applied against
    ``now`` (default: the current instant). Results come from the Redis cache when the
    tenant's availability version is unchanged.

    Raises:
        AvailabilityError: the staff member does not perform the service, or the range is
            reversed or longer than 62 days.
    """
    now = now or utcnow()
    if end_date < start_date:
        raise AvailabilityError("end", "end is before start.")
    if (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
        raise AvailabilityError("end", f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    staff_durations = performers(service.id)
    if staff_id is not None:
        if staff_id not in staff_durations:
            raise AvailabilityError("staff_id", "This staff member does not perform this service.")
        staff_durations = {staff_id: staff_durations[staff_id]}
    tz = zone(tenant.timezone)
    parts = (str(service.id), str(staff_id or "any"), start_date.isoformat(), end_date.isoformat(),
             str(tenant.slot_interval_minutes))
    slots: list[Slot] | None = None
    client = None
    key = ""
    try:
        from app.redis_client import get_redis

        client = get_redis()
        key, cached = cache_get(client, tenant.id, parts)
        if cached is not None:
            slots = [Slot(datetime.fromisoformat(a), datetime.fromisoformat(b), c) for a, b, c in cached]
    except redis.RedisError:
        client = None
    if slots is None:
        first = datetime.combine(start_date, datetime.min.time(), tzinfo=tz).astimezone(UTC) - timedelta(days=1)
        last = datetime.combine(end_date, datetime.min.time(), tzinfo=tz).astimezone(UTC) + timedelta(days=2)
        schedules = load_schedules(staff_durations, first, last)
        spec = ServiceSpec(service.duration_minutes, service.buffer_before_minutes, service.buffer_after_minutes)
        # Computed without lead time/horizon (applied below) so the cache does not depend on "now".
        rules = BookingRules(lead_time_minutes=0, horizon_days=100000, slot_interval_minutes=tenant.slot_interval_minutes)
        slots = compute_slots(tz=tz, schedules=schedules, service=spec, rules=rules, start_date=start_date,
                              end_date=end_date, now=first)
        if client is not None:
            try:
                cache_set(client, key, [[s.start.isoformat(), s.end.isoformat(), s.staff_id] for s in slots],
                          current_app.config.get("AVAILABILITY_CACHE_SECONDS", 300))
            except redis.RedisError:
                pass
    earliest = now + timedelta(minutes=tenant.lead_time_minutes)
    latest = now + timedelta(days=tenant.horizon_days)
    slots = [s for s in slots if earliest <= s.start < latest]
    if any_staff_merge:
        order = {str(sid): i for i, sid in enumerate(staff_durations)}
        slots = merge_any_staff(sorted(slots, key=lambda s: (s.start, order.get(s.staff_id, 0))))
    return slots
