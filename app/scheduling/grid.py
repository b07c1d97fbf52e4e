"""Availability on integers: the cold path's version of :func:`app.scheduling.availability.compute_slots`.

Same rules, same answer (a test compares them on random schedules across DST changes), but
every instant is an ``int`` of microseconds since the Unix epoch (UTC) instead of a tz-aware
``datetime``: busy time arrives from PostgreSQL already as such integers
(:mod:`app.scheduling.inputs`), a local opening time is converted to UTC once per (date, time)
rather than once per staff member, and the per-slot work is integer additions and a bisection.
No database or Flask here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.scheduling.availability import MAX_SPAN_DAYS, ServiceSpec, Slot

#: Microseconds in one minute.
MINUTE_US = 60_000_000
#: The Unix epoch as a tz-aware UTC datetime.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch of a tz-aware ``value`` (exact)."""
    return (value - EPOCH) // _ONE_US


def from_us(value: int) -> datetime:
    """The tz-aware UTC datetime of ``value`` microseconds since the Unix epoch."""
    return EPOCH + timedelta(microseconds=value)


@dataclass
class StaffPlan:
    """One staff member's inputs on integers.

    Attributes:
        staff_id: the staff member's id as text (as :class:`~app.scheduling.availability.Slot` carries it).
        weekly: weekday (0 = Monday) -> local ``(start, end)`` naive times; missing = closed.
        overrides: local date -> ranges replacing the weekly ones that day (empty = closed).
        busy: ``(start_us, end_us)`` busy intervals (UTC microseconds, half-open, any order).
        duration_minutes: per-staff duration override in minutes, or ``None``.
    """

    staff_id: str
    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    overrides: dict[date, list[tuple[time, time]]] = field(default_factory=dict)
    busy: list[tuple[int, int]] = field(default_factory=list)
    duration_minutes: int | None = None


def _merged(busy: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted starts and ends of the busy intervals, overlapping or touching ones coalesced."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(busy):
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def grid_slots(*, tz: ZoneInfo, plans: Sequence[StaffPlan], service: ServiceSpec, slot_interval_minutes: int,
               start_date: date, end_date: date, earliest_us: int, horizon_us: int) -> list[tuple[int, int, str]]:
    """Every bookable slot as ``(start_us, end_us, staff_id)``, sorted by ``(start, staff_id, end)``,
    without duplicates: exactly :func:`~app.scheduling.availability.compute_slots`' slots with
    ``earliest_us = now + lead time`` and ``horizon_us = now + horizon`` (UTC microseconds).

    Raises:
        ValueError: ``end_date`` before ``start_date``, a span over ``MAX_SPAN_DAYS`` days, or two
            plans with the same ``staff_id``.
    """
    if end_date < start_date:
        raise ValueError(f"end_date {end_date} is before start_date {start_date}")
    span_days = (end_date - start_date).days + 1
    if span_days > MAX_SPAN_DAYS:
        raise ValueError(f"date span of {span_days} days exceeds {MAX_SPAN_DAYS} days")
    if len({p.staff_id for p in plans}) != len(plans):
        raise ValueError("plans must have unique staff_id values")
    if earliest_us >= horizon_us:
        return []
    step = slot_interval_minutes * MINUTE_US
    before = service.buffer_before_minutes * MINUTE_US
    after = service.buffer_after_minutes * MINUTE_US
    days = [(d, d.weekday()) for d in (start_date + timedelta(days=i) for i in range(span_days))]
    utc_of: dict[tuple[date, time], int] = {}

    def local(day: date, wall: time) -> int:
        instant = utc_of.get((day, wall))
        if instant is None:
            instant = utc_of[(day, wall)] = to_us(datetime.combine(day, wall, tzinfo=tz))
        return instant

    found: set[tuple[int, int, str]] = set()
    for plan in plans:
        duration = (plan.duration_minutes or service.duration_minutes) * MINUTE_US
        starts, ends = _merged(plan.busy)
        n_busy = len(starts)
        staff_id = plan.staff_id
        overrides: Mapping[date, list[tuple[time, time]]] = plan.overrides
        for day, weekday in days:
            ranges = overrides[day] if day in overrides else plan.weekly.get(weekday, ())
            for open_t, close_t in ranges:
                range_start, range_end = local(day, open_t), local(day, close_t)
                if range_start + duration > range_end or range_start >= horizon_us:
                    continue
                slot = range_start if range_start >= earliest_us else range_start + -((range_start - earliest_us) // step) * step
                last_start = min(range_end - duration, horizon_us - 1)
                while slot <= last_start:
                    lo, hi = slot - before, slot + duration + after
                    i = bisect_right(ends, lo)
                    if i >= n_busy or starts[i] >= hi:
                        found.add((slot, slot + duration, staff_id))
                    slot += step
    return sorted(found, key=lambda s: (s[0], s[2], s[1]))


def as_slots(rows: Iterable[tuple[int, int, str]]) -> list[Slot]:
    """``(start_us, end_us, staff_id)`` rows as :class:`~app.scheduling.availability.Slot` objects (UTC)."""
    return [Slot(from_us(s), from_us(e), sid) for s, e, sid in rows]
