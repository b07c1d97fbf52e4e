"""Why a staff member cannot take a given time: the checks behind the front desk.

Staff entering or moving a booking see *why* a time is refused. Two kinds of reason:

* ``taken``: another slot-holding booking of the staff member overlaps the blocked range.
  Nothing overrides it (the ``booking_no_overlap`` exclusion constraint would refuse it too).
* ``warnings``: outside the staff member's working hours (date override, else weekly hours),
  inside blocked time (:class:`~app.catalog.models.TimeOff`), in the past, inside the lead
  time or beyond the horizon. Staff may book over these with an explicit "Book anyway".

Times are tz-aware (UTC in, UTC compared); working hours are local wall-clock times in the
tenant's zone. Tenant in scope; read-only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.catalog.models import DateOverride, StaffMember, TimeOff, WorkingHours
from app.extensions import db
from app.scheduling.busy import SLOT_HOLDING_STATUSES, booking_time
from app.tenants.models import Tenant
from app.timeutil import zone


@dataclass(frozen=True)
class Conflicts:
    """What stands against a time for one staff member: ``taken`` (never overridable) and
    ``warnings`` (overridable by staff), each a user-facing sentence; ``off_duty`` is True
    when the staff member is not working then (outside their hours or in blocked time)."""

    taken: str | None = None
    warnings: list[str] = field(default_factory=list)
    off_duty: bool = False

    @property
    def clear(self) -> bool:
        """True when nothing stands against the time."""
        return self.taken is None and not self.warnings


def _working_ranges(staff_id: uuid.UUID, day: date) -> list[tuple[time, time]]:
    """Local working ranges of ``staff_id`` on ``day``: the date override when one exists
    (no times = closed), else the weekly hours."""
    overrides = list(db.session.execute(sa.select(DateOverride.start_time, DateOverride.end_time).where(
        DateOverride.staff_id == staff_id, DateOverride.on_date == day)))
    if overrides:
        return [(a, b) for a, b in overrides if a is not None and b is not None]
    return list(db.session.execute(sa.select(WorkingHours.start_time, WorkingHours.end_time).where(
        WorkingHours.staff_id == staff_id, WorkingHours.weekday == day.weekday())))


def overlapping_booking(tenant_id: uuid.UUID, staff_id: uuid.UUID, blocked_from: datetime, blocked_until: datetime,
                        exclude_booking_id: uuid.UUID | None = None) -> bool:
    """True when a slot-holding booking of ``staff_id`` (other than ``exclude_booking_id``)
    overlaps ``[blocked_from, blocked_until)`` (UTC)."""
    t = booking_time.c
    q = sa.select(sa.func.count()).select_from(booking_time).where(
        t.tenant_id == tenant_id, t.staff_id == staff_id, t.status.in_(SLOT_HOLDING_STATUSES),
        t.blocked_from < blocked_until, t.blocked_until > blocked_from)
    if exclude_booking_id is not None:
        q = q.where(t.id != exclude_booking_id)
    return (db.session.scalar(q) or 0) > 0


def staff_conflicts(tenant: Tenant, staff_id: uuid.UUID, start: datetime, end: datetime, *,
                    blocked_from: datetime | None = None, blocked_until: datetime | None = None,
                    now: datetime, exclude_booking_id: uuid.UUID | None = None) -> Conflicts:
    """What stands against ``staff_id`` taking the appointment ``[start, end)`` (tz-aware),
    whose blocked range (buffers included) is ``[blocked_from, blocked_until)`` (default: the
    appointment). ``exclude_booking_id`` is the booking being moved (its own time is free).

    Raises:
        ValueError: naive datetimes or ``start >= end``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("staff_conflicts needs tz-aware datetimes")
    if start >= end:
        raise ValueError("the appointment ends before it starts")
    blocked_from = blocked_from or start
    blocked_until = blocked_until or end
    name = db.session.scalar(sa.select(StaffMember.name).where(StaffMember.id == staff_id)) or "This staff member"
    taken = None
    if overlapping_booking(tenant.id, staff_id, blocked_from, blocked_until, exclude_booking_id):
        taken = f"{name} already has a booking at this time."
    warnings: list[str] = []
    off_duty = False
    tz = zone(tenant.timezone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    ranges = _working_ranges(staff_id, local_start.date())
    same_day = local_start.date() == local_end.date()
    if not (same_day and any(a <= local_start.time() and local_end.time() <= b for a, b in ranges)):
        off_duty = True
        warnings.append(f"This is outside {name}'s working hours." if ranges
                        else f"{name} does not work on this day.")
    blocks = list(db.session.scalars(sa.select(TimeOff.reason).where(
        TimeOff.staff_id == staff_id, TimeOff.starts_at < blocked_until, TimeOff.ends_at > blocked_from)))
    if blocks:
        off_duty = True
        what = next((b for b in blocks if b), "")
        warnings.append(f"{name} has blocked this time{f' ({what})' if what else ''}.")
    if start < now:
        warnings.append("This time is in the past.")
    elif start < now + timedelta(minutes=tenant.lead_time_minutes):
        warnings.append(f"This is inside the {tenant.lead_time_minutes} minutes' notice customers must give.")
    if start >= now + timedelta(days=tenant.horizon_days):
        warnings.append(f"This is more than {tenant.horizon_days} days ahead.")
    return Conflicts(taken, warnings, off_duty)
