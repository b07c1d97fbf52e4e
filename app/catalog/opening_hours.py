"""A business's opening hours, as the public sees them: the union of its active staff's
weekly working hours, per weekday, in the business's own time zone (working hours are local
wall-clock times, so no conversion is needed).

Date overrides and time off are not folded in: these are the usual weekly hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import sqlalchemy as sa

from app.catalog.models import StaffMember, WorkingHours
from app.extensions import db

#: English weekday names, Monday first (``weekday`` 0-6), as schema.org names them too.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class OpeningDay:
    """One weekday's hours: ``weekday`` 0=Monday, its English ``name``, and ``ranges`` of
    ``(opens, closes)`` local times, sorted, not overlapping; empty when closed."""

    weekday: int
    name: str
    ranges: tuple[tuple[time, time], ...]

    @property
    def closed(self) -> bool:
        """True when nobody works that weekday."""
        return not self.ranges


def merge_ranges(ranges: list[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    """``ranges`` of ``(start, end)`` times sorted, with overlapping or touching ones merged."""
    merged: list[tuple[time, time]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def opening_hours() -> list[OpeningDay]:
    """The business in scope's week, Monday first: for each weekday the merged working hours of
    its active staff (local times in the business's zone)."""
    rows = db.session.execute(
        sa.select(WorkingHours.weekday, WorkingHours.start_time, WorkingHours.end_time)
        .join(StaffMember, sa.and_(StaffMember.tenant_id == WorkingHours.tenant_id,
                                   StaffMember.id == WorkingHours.staff_id))
        .where(StaffMember.active.is_(True))
    ).all()
    by_day: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for weekday, start, end in rows:
        by_day[weekday].append((start, end))
    return [OpeningDay(d, WEEKDAYS[d], merge_ranges(by_day[d])) for d in range(7)]
