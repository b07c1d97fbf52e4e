"""The ranking rules on small cases: relevance alone orders organic results, equally relevant
businesses rotate, and featured positions come only from paying businesses that match."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from app.marketplace.ranking import (
    Candidate,
    Prior,
    bayesian_rating,
    pick_featured,
    rank,
    relevance,
    request_seed,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)


def cand(name: str, **kw) -> Candidate:
    return Candidate(id=uuid.uuid5(uuid.NAMESPACE_DNS, name), name=name, **kw)


def test_one_five_star_review_does_not_outrank_two_hundred_at_four_point_eight():
    lucky = cand("lucky", rating_average=5.0, rating_count=1, distance_km=2)
    proven = cand("proven", rating_average=4.8, rating_count=200, distance_km=2)
    assert bayesian_rating(5.0, 1) < bayesian_rating(4.8, 200)
    for seed in ("a", "b", "c"):
        assert [c.name for c in rank([lucky, proven], seed, radius_km=25)] == ["proven", "lucky"]
        assert [c.name for c in rank([lucky, proven], seed, "rating")] == ["proven", "lucky"]


def test_no_reviews_rank_as_the_prior_not_as_zero():
    assert bayesian_rating(None, 0) == Prior().mean
    unknown = cand("new", distance_km=1)
    poor = cand("poor", rating_average=1.5, rating_count=80, distance_km=1)
    assert relevance(unknown, 25) > relevance(poor, 25)


def test_the_plan_never_changes_organic_order():
    basic = [cand(f"b{i}", distance_km=i, tier="basic") for i in range(6)]
    paying = [cand(f"b{i}", distance_km=i, tier="top") for i in range(6)]
    for seed in ("x", "y"):
        assert [c.id for c in rank(basic, seed)] == [c.id for c in rank(paying, seed)]


def test_a_more_relevant_business_is_always_above_a_less_relevant_one():
    near_match = cand("near", text=1.0, distance_km=1, available=True)
    far_fuzzy = cand("far", text=0.5, distance_km=20)
    for i in range(50):
        assert rank([far_fuzzy, near_match], f"seed{i}")[0].name == "near"


def test_equally_relevant_businesses_rotate_and_share_first_place():
    same = [cand(f"shop{i}", distance_km=3, rating_average=4.5, rating_count=30) for i in range(4)]
    firsts = Counter(rank(same, f"seed{i}")[0].name for i in range(2000))
    assert set(firsts) == {"shop0", "shop1", "shop2", "shop3"}
    assert max(firsts.values()) / min(firsts.values()) < 1.3  # about 500 each


def test_one_url_shows_one_order_for_the_hour():
    same = [cand(f"shop{i}", distance_km=3) for i in range(6)]
    params = {"q": "barber", "lat": 51.5, "lon": -0.1, "page": 1}
    seed = request_seed(params, NOW)
    assert seed == request_seed({**params, "page": 2}, NOW.replace(minute=59))
    assert [c.id for c in rank(same, seed)] == [c.id for c in rank(list(reversed(same)), seed)]
    later = request_seed(params, NOW.replace(hour=11))
    assert later != seed


def test_featured_positions_come_only_from_matching_paying_businesses_every_tier_represented():
    matching = ([cand(f"free{i}") for i in range(5)] + [cand(f"pro{i}", tier="featured") for i in range(3)]
                + [cand(f"premium{i}", tier="top") for i in range(2)])
    for i in range(20):
        picked = pick_featured(matching, f"seed{i}", page=1 + i % 3)
        assert len(picked) == 2
        assert {c.tier for c in picked} == {"top", "featured"}
        assert all(c in matching for c in picked)
    assert pick_featured([cand("free")], "s") == []  # no paying match: no featured position
    only_pro = [cand(f"pro{i}", tier="featured") for i in range(3)] + [cand("free")]
    picked = pick_featured(only_pro, "s")
    assert len(picked) == 2 and len({c.id for c in picked}) == 2 and {c.tier for c in picked} == {"featured"}
    assert len(pick_featured([cand("solo", tier="top")], "s")) == 1


def test_featured_positions_rotate_among_a_tier():
    pros = [cand(f"pro{i}", tier="featured") for i in range(5)]
    shown = Counter(c.name for i in range(1000) for c in pick_featured(pros, f"seed{i}"))
    assert set(shown) == {f"pro{i}" for i in range(5)}
    assert max(shown.values()) / min(shown.values()) < 1.3
    pages = {c.name for page in (1, 2, 3) for c in pick_featured(pros, "one-seed", page)}
    assert len(pages) == 5  # paging on shows the others


def test_other_sorts():
    a = cand("a", distance_km=5, price_from=3000, rating_average=4.9, rating_count=100)
    b = cand("b", distance_km=1, price_from=None, rating_average=4.0, rating_count=3)
    c = cand("c", distance_km=9, price_from=1000)
    assert [x.name for x in rank([a, b, c], "s", "distance")] == ["b", "a", "c"]
    assert [x.name for x in rank([a, b, c], "s", "price")] == ["c", "a", "b"]
    assert rank([a, b, c], "s", "rating")[0].name == "a"
    with pytest.raises(ValueError):
        rank([a], "s", "popularity")
