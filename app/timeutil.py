"""Time helpers: every instant in Plaza is a tz-aware UTC ``datetime``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: The calendar Plaza accepts as input (dates and instants): years 2000 to 2100. Far enough for
#: any booking, history or time off, and far from ``date.min``/``date.max``, where zone and
#: horizon arithmetic overflows.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
#: The sentence shown for a date outside [EARLIEST_DAY, LATEST_DAY].
DAY_RANGE_MESSAGE = f"Give a date between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."


def day_in_range(day: date) -> bool:
    """True when ``day`` (or a ``datetime``'s date) lies within [EARLIEST_DAY, LATEST_DAY]."""
    value = day.date() if isinstance(day, datetime) else day
    return EARLIEST_DAY <= value <= LATEST_DAY


def utcnow() -> datetime:
    """The current instant, tz-aware UTC."""
    return datetime.now(UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``.

    Raises:
        ValueError: ``name`` is not a known IANA time zone.
    """
    if not name or name not in _zones():
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def all_zones() -> list[str]:
    """Sorted list of every IANA zone name known to ``zoneinfo``."""
    return sorted(_zones())
