"""Why a staff member cannot take a time (app.scheduling.conflicts): another booking (never
overridable), working hours with date overrides, blocked time, the past, the lead time and
the horizon (overridable by staff), each as the sentence staff read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.booking.desk import book_by_staff, desk_customer
from app.booking.service import Actor
from app.catalog.service import add_time_off, set_date_override
from app.extensions import db
from app.scheduling.conflicts import staff_conflicts
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

DAY = date(2027, 3, 1)  # a Monday; Copenhagen is UTC+1 then
NOW = datetime(2027, 2, 25, 8, 0, tzinfo=UTC)


def at(hh: int, mm: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh - 1, mm, tzinfo=UTC)


@pytest.fixture
def bella(ctx):
    biz = make_business("bella", lead_time_minutes=60, horizon_days=30)
    with tenant_scope(biz.tenant_id):
        yield biz


def _check(biz, start, end, staff=0, now=NOW, **kw):
    return staff_conflicts(db.session.get(Tenant, biz.tenant_id), biz.staff_ids[staff], start, end, now=now, **kw)


def test_a_free_time_inside_working_hours_is_clear(bella):
    found = _check(bella, at(10), at(11))
    assert found.clear and not found.off_duty


def test_another_booking_is_taken_and_its_own_booking_is_not(bella):
    booking = book_by_staff(db.session.get(Tenant, bella.tenant_id), service_id=bella.service_ids[0],
                            staff_id=bella.staff_ids[0], start=at(10), customer=desk_customer("A", "a@example.com", None),
                            source="phone", actor=Actor("staff"), now=NOW)
    assert _check(bella, at(10, 30), at(11, 30)).taken == "Staff 1 already has a booking at this time."
    assert _check(bella, at(10, 30), at(11, 30), exclude_booking_id=booking.id).taken is None
    assert _check(bella, at(11), at(12)).taken is None  # touching is not overlapping
    assert _check(bella, at(10), at(11), staff=1).clear


def test_hours_overrides_and_blocked_time_are_overridable_reasons(bella):
    found = _check(bella, at(16, 30), at(17, 30))
    assert found.warnings == ["This is outside Staff 1's working hours."] and found.off_duty and found.taken is None
    set_date_override(bella.staff_ids[0], DAY, [])
    assert _check(bella, at(10), at(11)).warnings == ["Staff 1 does not work on this day."]
    set_date_override(bella.staff_ids[1], DAY, [(time(12), time(20))])
    assert _check(bella, at(18), at(19), staff=1).clear
    add_time_off(bella.staff_ids[1], at(13), at(14), "Dentist")
    found = _check(bella, at(13, 30), at(14, 30), staff=1)
    assert found.warnings == ["Staff 2 has blocked this time (Dentist)."] and found.off_duty


def test_the_past_the_lead_time_and_the_horizon(bella):
    now = at(10, 30)
    assert _check(bella, at(10), at(11), now=now).warnings == ["This time is in the past."]
    assert _check(bella, at(11), at(12), now=now).warnings == [
        "This is inside the 60 minutes' notice customers must give."]
    far = DAY + timedelta(days=40)
    assert _check(bella, at(10, day=far), at(11, day=far)).warnings == ["This is more than 30 days ahead."]


def test_naive_or_reversed_times_are_errors(bella):
    with pytest.raises(ValueError):
        _check(bella, datetime(2027, 3, 1, 10), datetime(2027, 3, 1, 11))
    with pytest.raises(ValueError):
        _check(bella, at(11), at(10))
