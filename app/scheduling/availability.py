"""Pure availability computation for Plaza bookings.

This module has no database or Flask dependencies; it only uses the standard library
(``datetime``, ``zoneinfo``, ``bisect``). Conventions used throughout:

* Absolute instants (``Interval``, ``Slot``, ``now``) are tz-aware ``datetime`` objects.
  Every datetime produced by this module is in UTC (``datetime.UTC``).
* Wall-clock opening hours (``TimeRange``) are naive ``datetime.time`` values that are
  interpreted in the business time zone passed to :func:`compute_slots`.
* Durations, buffers, lead times and slot intervals are whole minutes (``int``);
  the booking horizon is whole days of 24 elapsed hours.
* All intervals are half-open: ``[start, end)``. Two intervals conflict iff
  ``a.start < b.end and b.start < a.end``, so touching intervals do not conflict.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_SPAN_DAYS",
    "BookingRules",
    "Interval",
    "ServiceSpec",
    "Slot",
    "StaffSchedule",
    "TimeRange",
    "blocked_interval",
    "compute_slots",
    "merge_any_staff",
]

#: Maximum number of calendar days (inclusive) a single :func:`compute_slots` call may cover.
MAX_SPAN_DAYS = 62


def _is_aware(value: datetime) -> bool:
    """Return True if ``value`` is a tz-aware datetime (has a usable UTC offset)."""
    return value.tzinfo is not None and value.utcoffset() is not None


@dataclass(frozen=True)
class TimeRange:
    """A wall-clock opening range within one local day.

    Attributes:
        start: naive local ``time`` at which the range opens (inclusive).
        end: naive local ``time`` at which the range closes (exclusive); must be
            strictly after ``start`` (a range cannot run past midnight; split it in two).

    The times are interpreted in the business time zone given to :func:`compute_slots`.
    A start falling in a DST gap is resolved with ``fold=0`` (the pre-transition offset,
    i.e. it lands just after the gap); an ambiguous time on a fall-back night resolves to
    its first occurrence.

    Raises:
        ValueError: if either time carries a ``tzinfo`` or ``start >= end``.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("TimeRange times must be naive local wall-clock times")
        if not self.start < self.end:
            raise ValueError(f"TimeRange start {self.start} must be before end {self.end}")


@dataclass(frozen=True)
class Interval:
    """An absolute half-open interval ``[start, end)`` (e.g. a busy period).

    Attributes:
        start: tz-aware datetime; normalised to UTC on construction.
        end: tz-aware datetime; normalised to UTC on construction; strictly after ``start``.

    Raises:
        ValueError: if either datetime is naive or ``start >= end``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not (_is_aware(self.start) and _is_aware(self.end)):
            raise ValueError("Interval datetimes must be timezone-aware")
        start_utc = self.start.astimezone(UTC)
        end_utc = self.end.astimezone(UTC)
        if not start_utc < end_utc:
            raise ValueError(f"Interval start {self.start} must be before end {self.end}")
        object.__setattr__(self, "start", start_utc)
        object.__setattr__(self, "end", end_utc)

    def overlaps(self, other: Interval) -> bool:
        """Return True iff the two half-open intervals share at least one instant."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class StaffSchedule:
    """Working hours and existing commitments of one staff member.

    Attributes:
        staff_id: opaque, unique identifier of the staff member.
        weekly: weekday (``0`` = Monday .. ``6`` = Sunday) -> local opening ranges for that
            weekday. Several ranges per day model breaks; a missing weekday means closed.
        overrides: local date -> ranges. A date present here REPLACES the weekly ranges for
            that date; an empty sequence means closed all day.
        busy: absolute intervals during which the staff member cannot be booked (existing
            bookings with their buffers already included, time off, ...). Any order;
            overlaps allowed.
        duration_minutes: optional per-staff override of the service duration, in minutes.

    Raises:
        ValueError: if a weekly key is outside 0..6 or ``duration_minutes`` is not positive.
    """

    staff_id: str
    weekly: Mapping[int, Sequence[TimeRange]]
    overrides: Mapping[date, Sequence[TimeRange]] = field(default_factory=dict)
    busy: Sequence[Interval] = ()
    duration_minutes: int | None = None

    def __post_init__(self) -> None:
        bad_days = [day for day in self.weekly if not 0 <= day <= 6]
        if bad_days:
            raise ValueError(f"weekly keys must be weekdays 0..6, got {bad_days}")
        if self.duration_minutes is not None and self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be a positive number of minutes")

    def ranges_for(self, day: date) -> Sequence[TimeRange]:
        """Return the local opening ranges for ``day`` (override if present, else weekly)."""
        if day in self.overrides:
            return self.overrides[day]
        return self.weekly.get(day.weekday(), ())


@dataclass(frozen=True)
class ServiceSpec:
    """Timing of a bookable service.

    Attributes:
        duration_minutes: length of the appointment in minutes (> 0).
        buffer_before_minutes: minutes blocked before the appointment (>= 0).
        buffer_after_minutes: minutes blocked after the appointment (>= 0).

    Buffers are not part of the customer-visible slot but must not overlap busy time.

    Raises:
        ValueError: if the duration is not positive or a buffer is negative.
    """

    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0

    def __post_init__(self) -> None:
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be a positive number of minutes")
        if self.buffer_before_minutes < 0 or self.buffer_after_minutes < 0:
            raise ValueError("buffers must be >= 0 minutes")


@dataclass(frozen=True)
class BookingRules:
    """Business-wide booking window and slot grid.

    Attributes:
        lead_time_minutes: a slot must start at or after ``now + lead_time`` (>= 0 minutes).
        horizon_days: a slot must start strictly before ``now + horizon_days`` days of
            24 elapsed hours (>= 0; 0 means nothing is bookable).
        slot_interval_minutes: step between candidate starts, measured in absolute elapsed
            minutes from the start of each opening range (> 0).

    Raises:
        ValueError: if a value is out of the ranges above.
    """

    lead_time_minutes: int
    horizon_days: int
    slot_interval_minutes: int

    def __post_init__(self) -> None:
        if self.lead_time_minutes < 0:
            raise ValueError("lead_time_minutes must be >= 0")
        if self.horizon_days < 0:
            raise ValueError("horizon_days must be >= 0")
        if self.slot_interval_minutes <= 0:
            raise ValueError("slot_interval_minutes must be > 0")


@dataclass(frozen=True, order=True)
class Slot:
    """A bookable appointment slot for one staff member.

    Attributes:
        start: tz-aware UTC start of the appointment.
        end: tz-aware UTC end; ``end = start + duration`` (buffers NOT included).
        staff_id: the staff member offering the slot.

    Ordering compares ``(start, end, staff_id)``. No validation is done here, so callers
    constructing slots by hand are responsible for the invariants.
    """

    start: datetime
    end: datetime
    staff_id: str


def blocked_interval(start: datetime, end: datetime, service: ServiceSpec) -> Interval:
    """Return the interval a booking ``[start, end)`` blocks, buffers included.

    Args:
        start: tz-aware start of the appointment.
        end: tz-aware end of the appointment (after ``start``).
        service: supplies ``buffer_before_minutes`` and ``buffer_after_minutes``.

    Returns:
        ``Interval(start - buffer_before, end + buffer_after)`` in UTC.

    Raises:
        ValueError: if a datetime is naive or ``start >= end``.
    """
    if not (_is_aware(start) and _is_aware(end)):
        raise ValueError("blocked_interval needs timezone-aware datetimes")
    if not start < end:
        raise ValueError(f"start {start} must be before end {end}")
    return Interval(
        start - timedelta(minutes=service.buffer_before_minutes),
        end + timedelta(minutes=service.buffer_after_minutes),
    )


class _BusyIndex:
    """Sorted, merged busy intervals of one staff member supporting O(log n) overlap queries.

    Overlapping or touching intervals are coalesced; for non-empty half-open queries this
    gives exactly the same answer as testing every original interval.
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, busy: Iterable[Interval]) -> None:
        starts: list[datetime] = []
        ends: list[datetime] = []
        for interval in sorted(busy, key=lambda iv: iv.start):
            if ends and interval.start <= ends[-1]:
                ends[-1] = max(ends[-1], interval.end)
            else:
                starts.append(interval.start)
                ends.append(interval.end)
        self._starts = starts
        self._ends = ends

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Return True iff ``[start, end)`` overlaps any busy interval."""
        # First merged interval ending strictly after ``start``; ends are sorted because the
        # merged intervals are disjoint. It is the only candidate that can overlap.
        i = bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end


def _local_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """Interpret ``wall`` on ``day`` in ``tz`` (fold=0) and return the UTC instant."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def compute_slots(
    *,
    tz: ZoneInfo,
    schedules: Sequence[StaffSchedule],
    service: ServiceSpec,
    rules: BookingRules,
    start_date: date,
    end_date: date,
    now: datetime,
) -> list[Slot]:
    """Compute every bookable slot for the given staff over a range of local dates.

    Args:
        tz: the business time zone in which dates and opening ranges are interpreted.
        schedules: one schedule per staff member (staff ids must be unique).
        service: duration (minutes, unless overridden per staff) and buffers (minutes).
        rules: lead time (minutes), horizon (days) and slot interval (minutes).
        start_date: first local date to consider (inclusive).
        end_date: last local date to consider (inclusive).
        now: tz-aware current instant, in any zone.

    For every date and staff member, each opening range ``[rs, re)`` (converted to UTC via
    ``datetime.combine(d, t, tzinfo=tz)``) yields candidate starts ``rs + k * interval``,
    stepping in absolute elapsed minutes so a DST change neither duplicates nor drops a
    slot. A candidate ``[s, e)`` with ``e = s + duration`` is kept iff

    * ``e <= re`` (it fits in the range),
    * ``[s - buffer_before, e + buffer_after)`` overlaps no busy interval (half-open),
    * ``s >= now + lead_time`` and ``s < now + horizon_days``.

    Returns:
        Slots with UTC ``start``/``end``, sorted by ``(start, staff_id)``, without duplicates.

    Raises:
        ValueError: if ``now`` is naive, ``end_date < start_date``, the inclusive span exceeds
            ``MAX_SPAN_DAYS`` days, or two schedules share a ``staff_id``.
    """
    if not _is_aware(now):
        raise ValueError("now must be a timezone-aware datetime")
    if end_date < start_date:
        raise ValueError(f"end_date {end_date} is before start_date {start_date}")
    span_days = (end_date - start_date).days + 1
    if span_days > MAX_SPAN_DAYS:
        raise ValueError(f"date span of {span_days} days exceeds {MAX_SPAN_DAYS} days")
    staff_ids = [schedule.staff_id for schedule in schedules]
    if len(set(staff_ids)) != len(staff_ids):
        raise ValueError("schedules must have unique staff_id values")

    now_utc = now.astimezone(UTC)
    earliest = now_utc + timedelta(minutes=rules.lead_time_minutes)
    horizon_end = now_utc + timedelta(days=rules.horizon_days)
    if earliest >= horizon_end:
        return []

    step = timedelta(minutes=rules.slot_interval_minutes)
    before = timedelta(minutes=service.buffer_before_minutes)
    after = timedelta(minutes=service.buffer_after_minutes)
    days = [start_date + timedelta(days=offset) for offset in range(span_days)]

    found: set[Slot] = set()
    for schedule in schedules:
        duration = timedelta(minutes=schedule.duration_minutes or service.duration_minutes)
        busy = _BusyIndex(schedule.busy)
        staff_id = schedule.staff_id
        for day in days:
            for time_range in schedule.ranges_for(day):
                range_start = _local_to_utc(day, time_range.start, tz)
                range_end = _local_to_utc(day, time_range.end, tz)
                # Skip ranges too short for the service or opening at/after the horizon.
                if range_start + duration > range_end or range_start >= horizon_end:
                    continue
                if range_start < earliest:
                    # Smallest k with range_start + k * step >= earliest (ceil division).
                    k = -((range_start - earliest) // step)
                    slot_start = range_start + k * step
                else:
                    slot_start = range_start
                slot_end = slot_start + duration
                while slot_end <= range_end and slot_start < horizon_end:
                    if not busy.overlaps(slot_start - before, slot_end + after):
                        found.add(Slot(slot_start, slot_end, staff_id))
                    slot_start += step
                    slot_end += step
    return sorted(found, key=lambda slot: (slot.start, slot.staff_id, slot.end))


def merge_any_staff(slots: Iterable[Slot]) -> list[Slot]:
    """Collapse slots to one per start instant for "any staff" booking.

    Args:
        slots: candidate slots, ORDERED BY PREFERENCE: for each start instant the first slot
            seen wins (e.g. pass slots grouped by preferred staff, or the sorted output of
            :func:`compute_slots` to prefer the lowest ``staff_id``).

    Returns:
        One slot per distinct ``start`` (compared as instants), sorted by ``start``.
    """
    chosen: dict[datetime, Slot] = {}
    for slot in slots:
        chosen.setdefault(slot.start, slot)
    return sorted(chosen.values(), key=lambda slot: slot.start)
