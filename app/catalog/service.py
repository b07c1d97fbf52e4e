"""Set-up of services, staff members, working hours, date overrides and time off.

Every function works in the current tenant, flushes and never commits; each change that
affects availability bumps the tenant's availability cache version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

import sqlalchemy as sa

from app.catalog.availability_version import bump_version
from app.catalog.models import DateOverride, Service, ServiceStaff, StaffMember, TimeOff, WorkingHours
from app.extensions import db

#: ``Service.category`` of services booked only through a confirmed job-request quote (issue 13):
#: bookable, but never on the public menu (left out of :func:`list_services` with ``active_only``).
QUOTED_JOB_CATEGORY = "quoted-job"


def list_services(*, active_only: bool = True) -> list[Service]:
    """Services of the current tenant ordered by position then name (``active_only``: the active
    ones on the menu, without the quoted-job services)."""
    q = sa.select(Service).order_by(Service.position, Service.name)
    if active_only:
        q = q.where(Service.active.is_(True), Service.category != QUOTED_JOB_CATEGORY)
    return list(db.session.scalars(q))


def list_staff(*, active_only: bool = True) -> list[StaffMember]:
    """Staff members of the current tenant ordered by position then name."""
    q = sa.select(StaffMember).order_by(StaffMember.position, StaffMember.name)
    if active_only:
        q = q.where(StaffMember.active.is_(True))
    return list(db.session.scalars(q))


def service_staff_map() -> dict[uuid.UUID, list[uuid.UUID]]:
    """``service_id -> [staff_id, …]`` for the current tenant (active staff only)."""
    rows = db.session.execute(
        sa.select(ServiceStaff.service_id, ServiceStaff.staff_id)
        .join(StaffMember, sa.and_(StaffMember.id == ServiceStaff.staff_id,
                                   StaffMember.tenant_id == ServiceStaff.tenant_id))
        .where(StaffMember.active.is_(True))
        .order_by(StaffMember.position, StaffMember.name)
    )
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    for service_id, staff_id in rows:
        out.setdefault(service_id, []).append(staff_id)
    return out


def create_service(*, name: str, duration_minutes: int, price_amount: int, currency: str,
                   description: str = "", category: str = "", buffer_before_minutes: int = 0,
                   buffer_after_minutes: int = 0, staff_ids: Iterable[uuid.UUID] = (),
                   position: int = 0, active: bool = True) -> Service:
    """Create a service performed by ``staff_ids``; price in minor units of ``currency``."""
    svc = Service(name=name, duration_minutes=duration_minutes, price_amount=price_amount, currency=currency,
                  description=description, category=category, buffer_before_minutes=buffer_before_minutes,
                  buffer_after_minutes=buffer_after_minutes, position=position, active=active)
    db.session.add(svc)
    db.session.flush()
    set_service_staff(svc, staff_ids)
    return svc


def update_service(svc: Service, **fields: object) -> Service:
    """Update a service's fields (names as on :class:`Service`); ``staff_ids`` replaces who performs it."""
    staff_ids = fields.pop("staff_ids", None)
    for key, value in fields.items():
        setattr(svc, key, value)
    if staff_ids is not None:
        set_service_staff(svc, staff_ids)  # type: ignore[arg-type]
    db.session.flush()
    bump_version()
    return svc


def set_service_staff(svc: Service, staff_ids: Iterable[uuid.UUID],
                      overrides: dict[uuid.UUID, tuple[int | None, int | None]] | None = None) -> None:
    """Replace who performs ``svc``; ``overrides`` maps staff id to (duration, price) or Nones."""
    overrides = overrides or {}
    db.session.execute(sa.delete(ServiceStaff).where(ServiceStaff.service_id == svc.id))
    for sid in dict.fromkeys(staff_ids):
        duration, price = overrides.get(sid, (None, None))
        db.session.add(ServiceStaff(service_id=svc.id, staff_id=sid, duration_minutes=duration, price_amount=price))
    db.session.flush()
    bump_version()


def create_staff_member(*, name: str, bio: str = "", email: str | None = None, position: int = 0,
                        user_id: uuid.UUID | None = None) -> StaffMember:
    """Create a staff member (no hours yet)."""
    staff = StaffMember(name=name, bio=bio, email=email, position=position, user_id=user_id)
    db.session.add(staff)
    db.session.flush()
    bump_version()
    return staff


def set_working_hours(staff_id: uuid.UUID, weekly: dict[int, Sequence[tuple[time, time]]]) -> None:
    """Replace a staff member's weekly hours: weekday (0=Monday) -> local (start, end) ranges.

    Raises:
        ValueError: a range with start >= end, or overlapping ranges on one day.
    """
    for day, ranges in weekly.items():
        if not 0 <= day <= 6:
            raise ValueError(f"weekday {day} is not 0..6")
        ordered = sorted(ranges)
        for start, end in ordered:
            if start >= end:
                raise ValueError(f"{start:%H:%M}–{end:%H:%M} ends before it starts")
        for (_, end1), (start2, _) in zip(ordered, ordered[1:], strict=False):
            if start2 < end1:
                raise ValueError("working ranges on one day overlap")
    db.session.execute(sa.delete(WorkingHours).where(WorkingHours.staff_id == staff_id))
    for day, ranges in weekly.items():
        for start, end in ranges:
            db.session.add(WorkingHours(staff_id=staff_id, weekday=day, start_time=start, end_time=end))
    db.session.flush()
    bump_version()


def set_date_override(staff_id: uuid.UUID, on_date: date, ranges: Sequence[tuple[time, time]]) -> None:
    """Replace the hours of one date; an empty ``ranges`` closes the day."""
    db.session.execute(sa.delete(DateOverride).where(DateOverride.staff_id == staff_id,
                                                     DateOverride.on_date == on_date))
    if not ranges:
        db.session.add(DateOverride(staff_id=staff_id, on_date=on_date))
    for start, end in ranges:
        if start >= end:
            raise ValueError(f"{start:%H:%M}–{end:%H:%M} ends before it starts")
        db.session.add(DateOverride(staff_id=staff_id, on_date=on_date, start_time=start, end_time=end))
    db.session.flush()
    bump_version()


def add_time_off(staff_id: uuid.UUID, starts_at: datetime, ends_at: datetime, reason: str = "") -> TimeOff:
    """Block ``[starts_at, ends_at)`` (tz-aware UTC) for a staff member.

    Raises:
        ValueError: naive datetimes or ``starts_at >= ends_at``.
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("time off needs tz-aware datetimes")
    if starts_at >= ends_at:
        raise ValueError("time off ends before it starts")
    row = TimeOff(staff_id=staff_id, starts_at=starts_at, ends_at=ends_at, reason=reason)
    db.session.add(row)
    db.session.flush()
    bump_version()
    return row


def delete_time_off(row: TimeOff) -> None:
    """Remove a time-off entry."""
    db.session.delete(row)
    db.session.flush()
    bump_version()


def update_staff_member(staff: StaffMember, *, name: str, bio: str = "", email: str | None = None,
                        active: bool = True) -> StaffMember:
    """Change a staff member's profile; ``active=False`` hides them from booking (bumps the cache)."""
    staff.name = name
    staff.bio = bio
    staff.email = email or None
    staff.active = active
    db.session.flush()
    bump_version()
    return staff


def delete_date_override(staff_id: uuid.UUID, on_date: date) -> None:
    """Remove every override row of ``on_date`` for a staff member (weekly hours apply again)."""
    db.session.execute(sa.delete(DateOverride).where(DateOverride.staff_id == staff_id,
                                                     DateOverride.on_date == on_date))
    db.session.flush()
    bump_version()


def setup_progress() -> dict[str, bool]:
    """What a new business still has to set up before customers can book (current tenant):
    ``{"staff": has an active staff member, "hours": one of them has working hours,
    "services": an active service is performed by someone}``."""
    staff = db.session.scalar(sa.select(sa.func.count()).select_from(StaffMember).where(StaffMember.active.is_(True)))
    hours = db.session.scalar(sa.select(sa.func.count()).select_from(WorkingHours))
    services = db.session.scalar(
        sa.select(sa.func.count()).select_from(Service)
        .join(ServiceStaff, sa.and_(ServiceStaff.service_id == Service.id, ServiceStaff.tenant_id == Service.tenant_id))
        .where(Service.active.is_(True)))
    return {"staff": bool(staff), "hours": bool(hours), "services": bool(services)}
