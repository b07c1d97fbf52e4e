"""The fairness simulation of bench/fairness.py, on fewer searches: equally relevant businesses
get equal exposure, plans do not buy organic places, featured positions never leave the matches."""

from __future__ import annotations

import pytest

from bench.fairness import simulate

pytestmark = pytest.mark.unit


def test_simulated_exposure_is_fair():
    result = simulate(400, seed=3)
    assert result["within_15"] == 1.0
    assert 0.85 <= result["ratio_min"] <= result["ratio_max"] <= 1.15
    assert abs(result["paying_top3"] - result["paying_relevant"]) < 0.05
    assert result["featured_outside"] == 0 and result["featured_per_search"] <= 2
    assert result["featured_top_share"] > 0 and result["featured_pro_share"] > 0  # every paying tier
