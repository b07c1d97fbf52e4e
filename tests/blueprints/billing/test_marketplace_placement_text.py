"""The billing page says exactly what a plan does in marketplace search, and nothing more."""

from __future__ import annotations

import pytest
from markupsafe import escape

from app.billing.plans import FREE, PREMIUM, PRO
from tests.factories import make_business
from tests.helpers import login_as

pytestmark = pytest.mark.integration


def test_every_plan_is_ranked_by_relevance_and_paying_plans_take_turns_in_featured_places(app, client, ctx,
                                                                                          monkeypatch):
    for plan in (FREE, PRO, PREMIUM):
        assert "ranked like every business by relevance alone" in plan.marketplace_text
    assert "Featured" not in FREE.marketplace_text
    for plan in (PRO, PREMIUM):
        text = plan.marketplace_text
        assert "at most two" in text and "only in searches your business matches" in text
        assert "every paying plan that has a match represented" in text
        assert "top" not in text.lower().split() and "boost" not in text.lower()
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_not_called")
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    html = client.get("/dashboard/billing", base_url="http://bella.localhost").data.decode()
    assert str(escape(FREE.marketplace_text)) in html  # the current plan
    assert html.count(str(escape(PRO.marketplace_text))) == 2  # each paid plan's card
    assert "marketplace placement" not in html  # the old vague promise
