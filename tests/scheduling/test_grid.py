"""The integer engine (``app.scheduling.grid``, the cold path of availability) gives exactly the
slots of the reference engine (``compute_slots``) on random calendars, across DST changes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.scheduling.availability import BookingRules, Interval, ServiceSpec, StaffSchedule, TimeRange, compute_slots
from app.scheduling.grid import StaffPlan, as_slots, from_us, grid_slots, to_us
from app.scheduling.service import merge_rows_any_staff

pytestmark = pytest.mark.unit

CPH = ZoneInfo("Europe/Copenhagen")
NYC = ZoneInfo("America/New_York")


def _t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


def _random_calendar(rng: random.Random, first: date, tz: ZoneInfo) -> tuple[list[StaffSchedule], list[StaffPlan]]:
    """Four staff with random hours (some overlapping ranges), overrides and busy time (some off the
    minute grid), as both engines' inputs."""
    window_start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    schedules, plans = [], []
    for n in range(4):
        busy = []
        for _ in range(rng.randrange(0, 120)):
            start = window_start + timedelta(minutes=5 * rng.randrange(0, 14 * 24 * 12),
                                             seconds=rng.choice([0, 0, 0, 17]), microseconds=rng.choice([0, 0, 3]))
            busy.append(Interval(start, start + timedelta(minutes=5 * rng.randrange(1, 40))))
        hours = [("00:00", "04:00"), ("08:00", "12:00"), ("11:30", "13:00"), ("13:00", "18:30"), ("02:00", "03:30")]
        weekly = {wd: [(_t(a), _t(b)) for a, b in rng.sample(hours, 3)] for wd in range(7) if rng.random() < 0.8}
        overrides = {first + timedelta(days=3): [], first + timedelta(days=5): [(_t("10:15"), _t("14:45"))]}
        duration = rng.choice([None, None, 20])
        schedules.append(StaffSchedule(
            staff_id=f"staff-{n}", weekly={k: tuple(TimeRange(a, b) for a, b in v) for k, v in weekly.items()},
            overrides={k: tuple(TimeRange(a, b) for a, b in v) for k, v in overrides.items()}, busy=busy,
            duration_minutes=duration))
        plans.append(StaffPlan(staff_id=f"staff-{n}", weekly=weekly, overrides=overrides,
                               busy=[(to_us(b.start), to_us(b.end)) for b in busy], duration_minutes=duration))
    return schedules, plans


@pytest.mark.parametrize("seed", range(12))
def test_integer_engine_offers_exactly_the_reference_slots(seed: int) -> None:
    rng = random.Random(seed)
    tz = rng.choice([CPH, NYC])
    # Seeds 0-3 straddle the spring and autumn DST changes of both zones.
    first = [date(2026, 3, 5), date(2026, 3, 24), date(2026, 10, 20), date(2026, 10, 28)][seed] if seed < 4 else \
        date(2026, 1, 1) + timedelta(days=rng.randrange(0, 360))
    service = ServiceSpec(duration_minutes=rng.choice([15, 30, 45, 60, 90]),
                          buffer_before_minutes=rng.choice([0, 5, 15]), buffer_after_minutes=rng.choice([0, 10, 30]))
    rules = BookingRules(lead_time_minutes=rng.choice([0, 60, 24 * 60]), horizon_days=rng.choice([3, 10, 60]),
                         slot_interval_minutes=rng.choice([10, 15, 30]))
    now = datetime.combine(first, time(rng.randrange(24), rng.choice([0, 7, 30])), tzinfo=tz)
    schedules, plans = _random_calendar(rng, first, tz)
    last = first + timedelta(days=13)

    expected = compute_slots(tz=tz, schedules=schedules, service=service, rules=rules, start_date=first,
                             end_date=last, now=now)
    now_utc = now.astimezone(UTC)  # elapsed time, not wall-clock arithmetic across DST
    earliest = to_us(now_utc + timedelta(minutes=rules.lead_time_minutes))
    rows = grid_slots(tz=tz, plans=plans, service=service, slot_interval_minutes=rules.slot_interval_minutes,
                      start_date=first, end_date=last, earliest_us=earliest,
                      horizon_us=to_us(now_utc + timedelta(days=rules.horizon_days)))

    assert expected, "the calendar offers something to compare"
    assert as_slots(rows) == expected


def test_any_staff_merge_on_rows_names_the_first_free_staff_in_the_business_order() -> None:
    day = date(2026, 6, 1)
    open_all_day = {day.weekday(): [(_t("09:00"), _t("11:00"))]}
    nine = to_us(datetime(2026, 6, 1, 7, tzinfo=UTC))  # 09:00 in Copenhagen (summer)
    plans = [StaffPlan("b", weekly=open_all_day, busy=[(nine, nine + 3_600_000_000)]),
             StaffPlan("a", weekly=open_all_day)]
    rows = grid_slots(tz=CPH, plans=plans, service=ServiceSpec(60), slot_interval_minutes=60, start_date=day,
                      end_date=day, earliest_us=0, horizon_us=to_us(datetime(2027, 1, 1, tzinfo=UTC)))

    merged = merge_rows_any_staff(rows, ["b", "a"])

    # 09:00: "b" (preferred) is busy, so "a"; 10:00: "b" is free again and preferred.
    assert [(from_us(s).astimezone(CPH).strftime("%H:%M"), sid) for s, _, sid in merged] == [("09:00", "a"),
                                                                                             ("10:00", "b")]


def test_microsecond_conversion_is_exact() -> None:
    instant = datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC)
    assert from_us(to_us(instant)) == instant
    assert to_us(instant.astimezone(CPH)) == to_us(instant)
