"""Why a lead came, in words a provider reads: the phrase follows the strength, so a weak factor
never reads like praise."""

from __future__ import annotations

import pytest

from app.leads.inbox import why
from app.leads.models import Lead

pytestmark = pytest.mark.unit


def test_each_factor_says_what_its_strength_means():
    lead = Lead(score_parts={
        "distance": {"value": 0.95, "weight": 20, "contribution": 19.0},
        "rating": {"value": 0.5, "weight": 25, "contribution": 12.5},
        "verified": {"value": 0.0, "weight": 5, "contribution": 0.0},
    })
    words = {r.label: (r.words, r.value, r.share) for r in why(lead)}
    assert words["Distance"] == ("Strong: the job is close to you.", 95, 60)
    assert words["Rating"] == ("Fair: customers rate you fairly well.", 50, 40)
    assert words["Verified"] == ("Weak: your business is not verified yet.", 0, 0)
    assert [r.label for r in why(lead)] == ["Distance", "Rating", "Verified"]  # largest share first
