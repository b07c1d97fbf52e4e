"""In the week view with all staff, bookings of different people at the same hour share a day
column: they stand side by side in lanes instead of covering each other."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.blueprints.dashboard.views.calendar import MAX_LANES, Item, assign_lanes

pytestmark = pytest.mark.unit


def _item(column: int, start: str, end: str) -> Item:
    day = "2027-03-01T"
    return Item("booking", column, 2, 12, datetime.fromisoformat(day + start).replace(tzinfo=UTC),
                datetime.fromisoformat(day + end).replace(tzinfo=UTC))


def test_overlapping_items_get_their_own_lanes_and_the_rest_stay_full_width():
    a, b, c = _item(2, "10:00", "11:00"), _item(2, "10:30", "11:30"), _item(2, "11:00", "12:00")
    alone = _item(2, "14:00", "15:00")
    other_day = _item(3, "10:00", "11:00")
    assign_lanes([c, alone, b, other_day, a])
    # a and b overlap; c starts when a ends, so it takes a's lane; all three are one cluster of two lanes.
    assert [(a.lane, a.lanes), (b.lane, b.lanes), (c.lane, c.lanes)] == [(0, 2), (1, 2), (0, 2)]
    assert (alone.lane, alone.lanes) == (0, 1) and (other_day.lane, other_day.lanes) == (0, 1)


def test_a_crowded_hour_is_capped_at_the_styled_lanes():
    crowd = [_item(2, "10:00", "11:00") for _ in range(MAX_LANES + 2)]
    assign_lanes(crowd)
    assert {it.lanes for it in crowd} == {MAX_LANES}
    assert sorted(it.lane for it in crowd) == [*range(MAX_LANES), MAX_LANES - 1, MAX_LANES - 1]
