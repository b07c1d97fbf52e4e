"""The complexity score and its tier, computed by hand for each kind of weighted question."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.leads.complexity import complexity_score, tier_for
from app.leads.questions_models import DEFAULT_TIERS

pytestmark = pytest.mark.unit


@dataclass
class Q:
    id: str
    kind: str
    options: list = field(default_factory=list)
    weight: int = 0
    number_cap: int = 10


def opts(*weights: int) -> list[dict]:
    return [{"value": f"o{i}", "label": f"Option {i}", "weight": w} for i, w in enumerate(weights)]


SINGLE = Q("s", "single_choice", opts(0, 10, 30))      # max 30
MULTI = Q("m", "multiple_choice", opts(5, 10, 15))     # max 30
YESNO = Q("y", "yes_no", weight=20)                    # max 20
NUMBER = Q("n", "number", weight=20, number_cap=4)     # max 20 at 4 units
TEXT = Q("t", "short_text")                            # never weighted
ALL = [SINGLE, MULTI, YESNO, NUMBER, TEXT]             # max 100


def test_the_heaviest_answers_score_100_and_none_score_0():
    assert complexity_score(ALL, {"s": "o2", "m": ["o0", "o1", "o2"], "y": True, "n": 4, "t": "x"}) == 100
    assert complexity_score(ALL, {}) == 0


def test_each_kind_adds_its_weight():
    # 10 (single) + 15 (multi o0+o1) + 0 (no) + 20*2/4=10 (number) = 35 of 100
    assert complexity_score(ALL, {"s": "o1", "m": ["o0", "o1"], "y": False, "n": 2}) == 35


def test_a_number_beyond_its_cap_adds_no_more_than_its_weight():
    assert complexity_score([NUMBER], {"n": 400}) == 100
    assert complexity_score([NUMBER], {"n": 1}) == 25


def test_unanswered_questions_still_count_in_the_maximum():
    # yes on a 20-weight question, out of 30 + 20 possible: 40
    assert complexity_score([SINGLE, YESNO], {"y": True}) == 40


def test_only_unweighted_questions_score_zero():
    assert complexity_score([TEXT, Q("d", "date")], {"t": "a tap", "d": "2027-01-02"}) == 0


@pytest.mark.parametrize(("score", "tier", "credits"), [(0, 1, 1), (19, 1, 1), (20, 2, 2), (59, 3, 3),
                                                        (60, 4, 4), (80, 5, 5), (100, 5, 5)])
def test_the_seed_tiers_cost_one_to_five_credits(score, tier, credits):
    got = tier_for(score, DEFAULT_TIERS)
    assert (got.tier, got.credits, got.score) == (tier, credits, score)


def test_tiers_given_in_any_order_map_the_same():
    assert tier_for(55, [(3, 50, 7), (1, 0, 1), (2, 25, 4)]).credits == 7
