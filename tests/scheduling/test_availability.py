"""Unit tests for the pure availability engine (``app.scheduling.availability``).

No database or Flask app is involved; every expectation is an exact wall-clock value a
customer or business owner would see on the booking page.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from app.scheduling.availability import (
    BookingRules,
    Interval,
    ServiceSpec,
    Slot,
    StaffSchedule,
    TimeRange,
    blocked_interval,
    compute_slots,
    merge_any_staff,
)

pytestmark = pytest.mark.unit

CPH = ZoneInfo("Europe/Copenhagen")
NYC = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")

MONDAY = date(2026, 6, 1)  # a plain summer Monday, no DST change nearby
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # before every test date, within a 365-day horizon
RULES = BookingRules(lead_time_minutes=0, horizon_days=365, slot_interval_minutes=30)
ONE_HOUR = ServiceSpec(duration_minutes=60)
ALL_WEEK = range(7)


def tr(start: str, end: str) -> TimeRange:
    """Build a TimeRange from ``"HH:MM"`` strings."""
    return TimeRange(time.fromisoformat(start), time.fromisoformat(end))


def at(day: date, hhmm: str, tz: ZoneInfo = CPH) -> datetime:
    """Return the aware local datetime ``hhmm`` on ``day`` in ``tz`` (fold=0)."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz)


def utc(*args: int) -> datetime:
    """Return ``datetime(*args)`` in UTC."""
    return datetime(*args, tzinfo=UTC)


def schedule(
    staff_id: str = "alice",
    *,
    hours: Sequence[TimeRange] = (),
    weekdays: Sequence[int] | range = ALL_WEEK,
    overrides: Mapping[date, Sequence[TimeRange]] | None = None,
    busy: Sequence[Interval] = (),
    duration_minutes: int | None = None,
) -> StaffSchedule:
    """Build a StaffSchedule with the same ``hours`` on every weekday in ``weekdays``."""
    return StaffSchedule(
        staff_id=staff_id,
        weekly={day: tuple(hours) for day in weekdays},
        overrides=dict(overrides or {}),
        busy=tuple(busy),
        duration_minutes=duration_minutes,
    )


def slots_for(
    *schedules: StaffSchedule,
    day: date = MONDAY,
    end_day: date | None = None,
    tz: ZoneInfo = CPH,
    service: ServiceSpec = ONE_HOUR,
    rules: BookingRules = RULES,
    now: datetime = NOW,
) -> list[Slot]:
    """Call compute_slots with test defaults."""
    return compute_slots(
        tz=tz,
        schedules=list(schedules),
        service=service,
        rules=rules,
        start_date=day,
        end_date=end_day or day,
        now=now,
    )


def local_starts(slots: Sequence[Slot], tz: ZoneInfo = CPH) -> list[str]:
    """Render slot starts as local ``"HH:MM"`` strings."""
    return [slot.start.astimezone(tz).strftime("%H:%M") for slot in slots]


def half_hours(first: str, last: str) -> list[str]:
    """Return ``"HH:MM"`` strings from ``first`` to ``last`` inclusive, every 30 minutes."""
    cur = datetime.combine(MONDAY, time.fromisoformat(first))
    stop = datetime.combine(MONDAY, time.fromisoformat(last))
    out = []
    while cur <= stop:
        out.append(cur.strftime("%H:%M"))
        cur += timedelta(minutes=30)
    return out


# --------------------------------------------------------------------------- normal day


def test_day_with_lunch_break_lists_exact_local_starts() -> None:
    staff = schedule(hours=[tr("09:00", "12:00"), tr("13:00", "17:00")], weekdays=[0])

    slots = slots_for(staff)

    assert local_starts(slots) == [
        "09:00", "09:30", "10:00", "10:30", "11:00",
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00",
    ]  # fmt: skip
    # 09:00 CEST is 07:00 UTC; the slot lasts exactly the service duration.
    assert slots[0] == Slot(utc(2026, 6, 1, 7), utc(2026, 6, 1, 8), "alice")
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in slots)
    assert all(slot.end - slot.start == timedelta(minutes=60) for slot in slots)


def test_weekday_without_hours_is_closed() -> None:
    staff = schedule(hours=[tr("09:00", "11:00")], weekdays=[0])  # Mondays only

    slots = slots_for(staff, day=MONDAY, end_day=MONDAY + timedelta(days=6))

    assert {slot.start.astimezone(CPH).date() for slot in slots} == {MONDAY}
    assert local_starts(slots) == ["09:00", "09:30", "10:00"]


def test_overlapping_ranges_do_not_duplicate_slots() -> None:
    staff = schedule(hours=[tr("09:00", "11:00"), tr("10:00", "12:00")])

    slots = slots_for(staff)

    assert local_starts(slots) == half_hours("09:00", "11:00")


# ----------------------------------------------------------------------------------- DST

DST_DAYS = [
    pytest.param(CPH, date(2026, 3, 29), id="copenhagen-spring-forward"),
    pytest.param(CPH, date(2026, 10, 25), id="copenhagen-fall-back"),
    pytest.param(NYC, date(2026, 3, 8), id="new-york-spring-forward"),
    pytest.param(NYC, date(2026, 11, 1), id="new-york-fall-back"),
]


@pytest.mark.parametrize(("tz", "day"), DST_DAYS)
def test_business_day_on_dst_change_opens_at_nine_local(tz: ZoneInfo, day: date) -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])

    slots = slots_for(staff, tz=tz, day=day)

    assert local_starts(slots, tz) == half_hours("09:00", "16:00")
    assert slots[0].start == at(day, "09:00", tz)
    assert slots[-1].start == at(day, "16:00", tz)
    assert slots[-1].end.astimezone(tz).strftime("%H:%M") == "17:00"


NIGHT_CASES = [
    pytest.param(
        CPH,
        date(2026, 3, 29),
        [utc(2026, 3, 28, 23), utc(2026, 3, 29, 0), utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)],
        ["00:00+0100", "01:00+0100", "03:00+0200", "04:00+0200"],
        id="copenhagen-spring-forward-4h",
    ),
    pytest.param(
        CPH,
        date(2026, 10, 25),
        [utc(2026, 10, 24, 22), utc(2026, 10, 24, 23)] + [utc(2026, 10, 25, h) for h in range(4)],
        [
            "00:00+0200",
            "01:00+0200",
            "02:00+0200",
            "02:00+0100",
            "03:00+0100",
            "04:00+0100",
        ],
        id="copenhagen-fall-back-6h",
    ),
    pytest.param(
        NYC,
        date(2026, 3, 8),
        [utc(2026, 3, 8, h) for h in (5, 6, 7, 8)],
        ["00:00-0500", "01:00-0500", "03:00-0400", "04:00-0400"],
        id="new-york-spring-forward-4h",
    ),
    pytest.param(
        NYC,
        date(2026, 11, 1),
        [utc(2026, 11, 1, h) for h in range(4, 10)],
        [
            "00:00-0400",
            "01:00-0400",
            "01:00-0500",
            "02:00-0500",
            "03:00-0500",
            "04:00-0500",
        ],
        id="new-york-fall-back-6h",
    ),
]


@pytest.mark.parametrize(("tz", "day", "expected_utc", "expected_local"), NIGHT_CASES)
def test_night_range_across_dst_steps_in_absolute_time(
    tz: ZoneInfo,
    day: date,
    expected_utc: list[datetime],
    expected_local: list[str],
) -> None:
    staff = schedule(hours=[tr("00:00", "05:00")])
    hourly = BookingRules(lead_time_minutes=0, horizon_days=365, slot_interval_minutes=60)

    slots = slots_for(staff, tz=tz, day=day, rules=hourly)

    assert [slot.start for slot in slots] == expected_utc
    assert [s.start.astimezone(tz).strftime("%H:%M%z") for s in slots] == expected_local
    # The last slot ends exactly at 05:00 local.
    assert slots[-1].end == at(day, "05:00", tz)


@pytest.mark.parametrize(
    ("tz", "day", "expected_count"),
    [
        pytest.param(CPH, date(2026, 3, 29), 7, id="copenhagen-spring-4h"),
        pytest.param(CPH, date(2026, 10, 25), 11, id="copenhagen-fall-6h"),
        pytest.param(NYC, date(2026, 3, 8), 7, id="new-york-spring-4h"),
        pytest.param(NYC, date(2026, 11, 1), 11, id="new-york-fall-6h"),
    ],
)
def test_night_range_half_hour_grid_is_strictly_increasing(
    tz: ZoneInfo, day: date, expected_count: int
) -> None:
    staff = schedule(hours=[tr("00:00", "05:00")])

    starts = [slot.start for slot in slots_for(staff, tz=tz, day=day)]

    assert len(starts) == expected_count  # (hours of absolute time * 2) - 1
    assert len(set(starts)) == len(starts)
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(starts))


def test_range_starting_inside_spring_forward_gap_opens_after_the_gap() -> None:
    # 02:30 does not exist in Copenhagen on 2026-03-29; fold=0 reads it with the winter
    # offset, i.e. 01:30 UTC == 03:30 CEST.
    staff = schedule(hours=[tr("02:30", "05:00")])

    slots = slots_for(staff, day=date(2026, 3, 29))

    assert [slot.start for slot in slots] == [utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2)]
    assert local_starts(slots) == ["03:30", "04:00"]


# -------------------------------------------------------------------- customer time zone


def test_customer_in_tokyo_sees_same_instants() -> None:
    # A New York evening is the next morning in Tokyo.
    staff = schedule(hours=[tr("20:00", "23:00")])
    hourly = BookingRules(lead_time_minutes=0, horizon_days=365, slot_interval_minutes=60)

    slots = slots_for(staff, tz=NYC, rules=hourly)
    tokyo_view = [slot.start.astimezone(TOKYO) for slot in slots]

    assert local_starts(slots, NYC) == ["20:00", "21:00", "22:00"]
    assert [t.strftime("%Y-%m-%d %H:%M") for t in tokyo_view] == [
        "2026-06-02 09:00",
        "2026-06-02 10:00",
        "2026-06-02 11:00",
    ]
    assert tokyo_view == [slot.start for slot in slots]  # same instants
    assert [t.astimezone(UTC) for t in tokyo_view] == [utc(2026, 6, 2, h) for h in (0, 1, 2)]


def test_now_in_any_zone_is_the_same_instant() -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])
    rules = BookingRules(lead_time_minutes=60, horizon_days=30, slot_interval_minutes=30)
    now_cph = at(MONDAY, "11:00")

    by_zone = {
        str(zone): slots_for(staff, rules=rules, now=now_cph.astimezone(zone))
        for zone in (CPH, TOKYO, NYC, UTC)
    }

    assert local_starts(by_zone["Europe/Copenhagen"])[0] == "12:00"
    assert all(result == by_zone["Europe/Copenhagen"] for result in by_zone.values())


# ------------------------------------------------------------------ lead time and horizon


def test_slot_exactly_at_lead_time_is_included() -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])
    rules = BookingRules(lead_time_minutes=120, horizon_days=30, slot_interval_minutes=30)

    slots = slots_for(staff, rules=rules, now=at(MONDAY, "08:00"))

    assert local_starts(slots) == half_hours("10:00", "16:00")


def test_slot_one_minute_before_lead_time_is_excluded() -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])
    rules = BookingRules(lead_time_minutes=120, horizon_days=30, slot_interval_minutes=30)

    slots = slots_for(staff, rules=rules, now=at(MONDAY, "08:01"))

    # 10:00 is one minute short of now + 2h; the grid stays anchored at 09:00.
    assert local_starts(slots) == half_hours("10:30", "16:00")


def test_slots_before_now_are_never_offered() -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])

    slots = slots_for(staff, now=at(MONDAY, "15:10"))

    assert local_starts(slots) == ["15:30", "16:00"]


def test_horizon_is_exclusive() -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])
    rules = BookingRules(lead_time_minutes=0, horizon_days=1, slot_interval_minutes=30)
    now = at(MONDAY - timedelta(days=1), "10:00")  # horizon ends Monday 10:00 local

    slots = slots_for(staff, rules=rules, now=now, day=MONDAY - timedelta(days=1), end_day=MONDAY)

    monday = [s for s in slots if s.start.astimezone(CPH).date() == MONDAY]
    sunday = [s for s in slots if s.start.astimezone(CPH).date() != MONDAY]
    assert local_starts(sunday) == half_hours("10:00", "16:00")
    assert local_starts(monday) == ["09:00", "09:30"]  # 10:00 == now + 1 day is excluded


def test_zero_horizon_offers_nothing() -> None:
    staff = schedule(hours=[tr("09:00", "17:00")])
    rules = BookingRules(lead_time_minutes=0, horizon_days=0, slot_interval_minutes=30)

    assert slots_for(staff, rules=rules) == []


# -------------------------------------------------------------------------------- buffers


def test_blocked_interval_adds_buffers() -> None:
    service = ServiceSpec(duration_minutes=60, buffer_before_minutes=15, buffer_after_minutes=10)

    blocked = blocked_interval(at(MONDAY, "12:00"), at(MONDAY, "13:00"), service)

    assert blocked == Interval(utc(2026, 6, 1, 9, 45), utc(2026, 6, 1, 11, 10))
    assert blocked.start.tzinfo is UTC


def test_buffers_block_neighbouring_slots_but_touching_is_allowed() -> None:
    service = ServiceSpec(duration_minutes=60, buffer_before_minutes=15, buffer_after_minutes=15)
    existing = blocked_interval(at(MONDAY, "12:00"), at(MONDAY, "13:00"), service)  # 11:45-13:15
    staff = schedule(hours=[tr("09:00", "17:00")], busy=[existing])
    rules = BookingRules(lead_time_minutes=0, horizon_days=365, slot_interval_minutes=15)

    starts = local_starts(slots_for(staff, service=service, rules=rules))

    # 10:30 blocks 10:15-11:45, touching the existing 11:45 start: allowed.
    # 13:30 blocks 13:15-14:45, touching the existing 13:15 end: allowed.
    assert [s for s in starts if "10:00" <= s <= "14:00"] == [
        "10:00", "10:15", "10:30", "13:30", "13:45", "14:00",
    ]  # fmt: skip
    assert starts[0] == "09:00"
    assert starts[-1] == "16:00"


def test_adjacent_busy_interval_without_buffers_does_not_conflict() -> None:
    busy = Interval(at(MONDAY, "10:00"), at(MONDAY, "11:00"))
    staff = schedule(hours=[tr("09:00", "13:00")], busy=[busy])

    slots = slots_for(staff)

    assert local_starts(slots) == ["09:00", "11:00", "11:30", "12:00"]


# ------------------------------------------------------------- overrides and time off


def test_overrides_close_a_day_and_set_special_hours() -> None:
    tuesday, wednesday, saturday = (MONDAY + timedelta(days=n) for n in (1, 2, 5))
    staff = schedule(
        hours=[tr("09:00", "17:00")],
        weekdays=range(5),  # Monday-Friday
        overrides={
            tuesday: [],  # closed
            wednesday: [tr("10:00", "12:00")],  # short day
            saturday: [tr("10:00", "11:00")],  # opens on a normally closed day
        },
    )
    hourly = BookingRules(lead_time_minutes=0, horizon_days=365, slot_interval_minutes=60)

    slots = slots_for(staff, rules=hourly, day=MONDAY, end_day=MONDAY + timedelta(days=6))
    per_day = Counter(slot.start.astimezone(CPH).strftime("%a") for slot in slots)

    assert per_day == {"Mon": 8, "Wed": 2, "Thu": 8, "Fri": 8, "Sat": 1}
    wed = [s for s in slots if s.start.astimezone(CPH).date() == wednesday]
    assert local_starts(wed) == ["10:00", "11:00"]


def test_time_off_blocks_part_of_a_day() -> None:
    afternoon_off = Interval(at(MONDAY, "14:00"), at(MONDAY, "17:00"))
    staff = schedule(hours=[tr("09:00", "17:00")], busy=[afternoon_off])

    slots = slots_for(staff)

    assert local_starts(slots) == half_hours("09:00", "13:00")


def test_multi_day_time_off_blocks_whole_days() -> None:
    vacation = Interval(
        at(MONDAY + timedelta(days=1), "00:00"), at(MONDAY + timedelta(days=3), "00:00")
    )
    staff = schedule(hours=[tr("09:00", "10:00")], busy=[vacation])

    slots = slots_for(staff, day=MONDAY, end_day=MONDAY + timedelta(days=3))

    assert [s.start.astimezone(CPH).strftime("%a %H:%M") for s in slots] == [
        "Mon 09:00",
        "Thu 09:00",
    ]


def test_per_staff_duration_and_multi_staff_ordering() -> None:
    alice = schedule("alice", hours=[tr("09:00", "11:00")], duration_minutes=30)
    bob = schedule("bob", hours=[tr("09:00", "11:00")])

    slots = slots_for(bob, alice)  # input order must not matter for the result order

    assert [
        (
            s.start.astimezone(CPH).strftime("%H:%M"),
            s.end.astimezone(CPH).strftime("%H:%M"),
            s.staff_id,
        )
        for s in slots
    ] == [
        ("09:00", "09:30", "alice"),
        ("09:00", "10:00", "bob"),
        ("09:30", "10:00", "alice"),
        ("09:30", "10:30", "bob"),
        ("10:00", "10:30", "alice"),
        ("10:00", "11:00", "bob"),
        ("10:30", "11:00", "alice"),
    ]


# ------------------------------------------------------------------------ merge_any_staff


def test_merge_any_staff_keeps_first_slot_per_start() -> None:
    alice = schedule("alice", hours=[tr("09:00", "11:00")], duration_minutes=30)
    bob = schedule("bob", hours=[tr("09:00", "11:00")])
    slots = slots_for(alice, bob)

    default = merge_any_staff(slots)
    prefer_bob = merge_any_staff(sorted(slots, key=lambda s: (s.staff_id != "bob", s.start)))

    assert [(s.start.astimezone(CPH).strftime("%H:%M"), s.staff_id) for s in default] == [
        ("09:00", "alice"),
        ("09:30", "alice"),
        ("10:00", "alice"),
        ("10:30", "alice"),
    ]
    assert [(s.start.astimezone(CPH).strftime("%H:%M"), s.staff_id) for s in prefer_bob] == [
        ("09:00", "bob"),
        ("09:30", "bob"),
        ("10:00", "bob"),
        ("10:30", "alice"),
    ]


def test_merge_any_staff_on_empty_input() -> None:
    assert merge_any_staff([]) == []


# --------------------------------------------------------------------------------- errors


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_for(schedule(hours=[tr("09:00", "17:00")]), now=datetime(2026, 1, 1))


def test_reversed_dates_are_rejected() -> None:
    with pytest.raises(ValueError, match="before start_date"):
        slots_for(schedule(), day=MONDAY, end_day=MONDAY - timedelta(days=1))


def test_span_limit_is_62_days_inclusive() -> None:
    staff = schedule(hours=[tr("09:00", "10:00")])

    ok = slots_for(staff, day=MONDAY, end_day=MONDAY + timedelta(days=61))
    assert len(ok) == 62 * 1  # one 60-min slot per day
    with pytest.raises(ValueError, match="exceeds 62 days"):
        slots_for(staff, day=MONDAY, end_day=MONDAY + timedelta(days=62))


def test_duplicate_staff_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique staff_id"):
        slots_for(schedule("alice"), schedule("alice"))


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: tr("10:00", "10:00"), id="empty-range"),
        pytest.param(lambda: tr("17:00", "09:00"), id="reversed-range"),
        pytest.param(lambda: Interval(datetime(2026, 6, 1, 9), utc(2026, 6, 1, 10)), id="naive"),
        pytest.param(lambda: Interval(utc(2026, 6, 1, 10), utc(2026, 6, 1, 10)), id="empty"),
        pytest.param(lambda: ServiceSpec(duration_minutes=0), id="zero-duration"),
        pytest.param(lambda: ServiceSpec(60, buffer_before_minutes=-5), id="negative-buffer"),
        pytest.param(lambda: BookingRules(0, 30, 0), id="zero-interval"),
        pytest.param(lambda: schedule(duration_minutes=0), id="zero-staff-duration"),
        pytest.param(lambda: StaffSchedule("x", weekly={7: ()}), id="bad-weekday"),
    ],
)
def test_invalid_values_are_rejected(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


# ------------------------------------------------------------ reference cross-check


def _reference_slots(
    tz: ZoneInfo,
    schedules: Sequence[StaffSchedule],
    service: ServiceSpec,
    rules: BookingRules,
    days: Sequence[date],
    now: datetime,
) -> list[Slot]:
    """Obviously-correct O(candidates * busy) implementation of the documented rules."""
    step = timedelta(minutes=rules.slot_interval_minutes)
    earliest = now + timedelta(minutes=rules.lead_time_minutes)
    horizon_end = now + timedelta(days=rules.horizon_days)
    found = set()
    for sched in schedules:
        duration = timedelta(minutes=sched.duration_minutes or service.duration_minutes)
        for day in days:
            ranges = sched.overrides.get(day, sched.weekly.get(day.weekday(), ()))
            for rng in ranges:
                rs = datetime.combine(day, rng.start, tzinfo=tz).astimezone(UTC)
                re = datetime.combine(day, rng.end, tzinfo=tz).astimezone(UTC)
                s = rs
                while s + duration <= re:
                    blocked = blocked_interval(s, s + duration, service)
                    if earliest <= s < horizon_end and not any(
                        blocked.overlaps(b) for b in sched.busy
                    ):
                        found.add(Slot(s, s + duration, sched.staff_id))
                    s += step
    return sorted(found, key=lambda slot: (slot.start, slot.staff_id))


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_reference_on_random_calendars(seed: int) -> None:
    rng = random.Random(seed)
    tz = rng.choice([CPH, NYC])
    first = date(2026, 3, 1) + timedelta(days=rng.randrange(0, 250))
    days = [first + timedelta(days=n) for n in range(14)]
    service = ServiceSpec(
        duration_minutes=rng.choice([15, 30, 45, 60, 90]),
        buffer_before_minutes=rng.choice([0, 5, 15]),
        buffer_after_minutes=rng.choice([0, 10, 30]),
    )
    rules = BookingRules(
        lead_time_minutes=rng.choice([0, 60, 24 * 60]),
        horizon_days=rng.choice([3, 10, 60]),
        slot_interval_minutes=rng.choice([10, 15, 30]),
    )
    now = datetime.combine(first, time(rng.randrange(24), rng.choice([0, 7, 30])), tzinfo=tz)
    window_start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    schedules = []
    for n in range(4):
        busy = []
        for _ in range(rng.randrange(0, 120)):
            start = window_start + timedelta(minutes=5 * rng.randrange(0, 14 * 24 * 12))
            busy.append(Interval(start, start + timedelta(minutes=5 * rng.randrange(1, 40))))
        schedules.append(
            StaffSchedule(
                staff_id=f"staff-{n}",
                weekly={
                    wd: (tr("00:00", "04:00"), tr("08:00", "12:00"), tr("13:00", "18:30"))
                    for wd in range(7)
                    if rng.random() < 0.8
                },
                overrides={days[3]: (), days[5]: (tr("10:15", "14:45"),)},
                busy=busy,
                duration_minutes=rng.choice([None, None, 20]),
            )
        )

    actual = compute_slots(
        tz=tz,
        schedules=schedules,
        service=service,
        rules=rules,
        start_date=days[0],
        end_date=days[-1],
        now=now,
    )

    assert actual == _reference_slots(tz, schedules, service, rules, days, now)
