"""The dispatch score: proximity first, then spare capacity and expertise."""

from __future__ import annotations

import pytest

from app.dispatch.engine import score
from app.dispatch.services import eta_minutes

pytestmark = pytest.mark.unit


def test_a_much_nearer_novice_beats_a_far_expert_but_expertise_breaks_near_ties():
    assert score(0.5, 25, 0, 1, 0) > score(3.0, 25, 0, 1, 40)
    assert score(1.0, 25, 0, 1, 40) > score(1.1, 25, 0, 1, 0)


def test_spare_capacity_counts_and_the_radius_is_a_hard_limit():
    assert score(1.0, 25, 0, 3, 0) > score(1.0, 25, 2, 3, 0)
    assert score(25.1, 25, 0, 1, 40) == 0.0
    assert 0.0 < score(24.9, 25, 0, 1, 0) < 1.0


def test_the_eta_is_distance_at_city_speed_plus_parking():
    assert eta_minutes(0.0) == 3
    assert eta_minutes(5.0) == 15
