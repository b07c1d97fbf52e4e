"""The routing score, computed by hand: each factor's value, the weighted mean, and parts whose
contributions add up to the score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.leads.scoring import FACTORS, ProviderStats, blend, factor_values, score_provider
from app.marketplace.ranking import Prior

pytestmark = pytest.mark.unit

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)


def test_a_newcomer_gets_neutral_values_where_nothing_is_known():
    values = factor_values(ProviderStats(), NOW, Prior(4.0, 10))
    assert values == {"rating": 0.75, "completed": 0.0, "response_rate": 0.5, "response_time": 0.5, "distance": 0.5,
                      "load": 1.0, "expertise": 0.0, "verified": 0.0, "recency": 1.0}


def test_each_factor_by_hand():
    stats = ProviderStats(rating_average=5.0, rating_count=10, won=5, offered=8, claimed=6,
                          mean_response_minutes=30, open_load=3, category_won=3, verified=True,
                          last_offered_at=NOW - timedelta(hours=24), distance_km=10)
    values = factor_values(stats, NOW, Prior(4.0, 10))
    # Bayesian: (10·4 + 10·5) / 20 = 4.5 stars -> (4.5 - 1) / 4
    assert values["rating"] == pytest.approx(0.875)
    assert values["completed"] == pytest.approx(0.5)  # 5 / (5 + 5)
    assert values["response_rate"] == pytest.approx(0.7)  # (6 + 1) / (8 + 2)
    assert values["response_time"] == pytest.approx(0.5)  # 30 / (30 + 30)
    assert values["distance"] == pytest.approx(0.5)  # 10 / (10 + 10)
    assert values["load"] == pytest.approx(0.25)  # 1 / (1 + 3)
    assert values["expertise"] == pytest.approx(0.5)  # 3 / (3 + 3)
    assert values["verified"] == 1.0
    assert values["recency"] == pytest.approx(0.5)  # 24 h / (24 + 24)


def test_the_score_is_the_weighted_mean_and_the_parts_add_up():
    score, parts = blend({"rating": 1.0, "distance": 0.5, "load": 0.0}, {"rating": 30, "distance": 10, "load": 60})
    # (30·1 + 10·0.5 + 60·0) / 100
    assert score == pytest.approx(0.35)
    assert parts["rating"] == {"value": 1.0, "weight": 30.0, "contribution": 0.3}
    assert parts["distance"]["contribution"] == pytest.approx(0.05)
    assert parts["load"]["contribution"] == 0.0


def test_zero_weights_give_zero_and_a_missing_weight_counts_as_zero():
    assert blend({"rating": 1.0}, {"rating": 0})[0] == 0.0
    score, parts = blend({"rating": 1.0, "distance": 0.0}, {"distance": 50})
    assert score == 0.0 and parts["rating"]["weight"] == 0.0


def test_a_closer_less_loaded_provider_outscores_an_otherwise_equal_one():
    weights = dict.fromkeys(FACTORS, 10)
    near, _ = score_provider(ProviderStats(distance_km=2, open_load=0), weights, NOW)
    far, _ = score_provider(ProviderStats(distance_km=30, open_load=4), weights, NOW)
    assert near > far


def test_a_provider_who_just_got_a_lead_ranks_below_one_who_waited():
    weights = {"recency": 100}
    just, _ = score_provider(ProviderStats(last_offered_at=NOW - timedelta(minutes=5)), weights, NOW)
    waited, _ = score_provider(ProviderStats(last_offered_at=NOW - timedelta(days=3)), weights, NOW)
    assert just < 0.01 and waited == pytest.approx(72 / 96)
