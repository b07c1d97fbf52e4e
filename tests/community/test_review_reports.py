"""Reviews and the business's replies are reportable like every other content: hiding one
after a report takes it off the profile and out of the aggregates, exactly."""

from __future__ import annotations

import pytest

from app.community import moderation
from app.extensions import db
from app.identity.service import find_user
from app.reviews.queries import rating_summary
from app.reviews.service import create_review
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.reviews.support import visit

pytestmark = pytest.mark.integration


def test_a_reported_review_hidden_by_the_business_leaves_the_summary_exact(ctx):
    biz = make_business("bella")
    owner = find_user(biz.owner_email).id
    with tenant_scope(biz.tenant_id):
        fake = create_review(visit(biz, "troll@example.com", index=0), rating=1, text="Worst ever, avoid!!!")
        create_review(visit(biz, "anna@example.com", index=1), rating=5)
        assert (rating_summary().average, rating_summary().count) == (3.0, 2)
        report = moderation.report_content("review", fake.id, "fake", "Never a customer here")
        [view] = moderation.list_reports()
        assert view.can_hide and view.can_block and "Worst ever" in view.target.excerpt
        moderation.act_on_report(report, "hide", by=owner)
        db.session.flush()
        assert (rating_summary().average, rating_summary().count) == (5.0, 1)
        assert moderation.kind_of("review").load(fake.id).visible is False


def test_the_business_reply_can_be_reported_and_hidden_on_its_own(client, ctx):
    biz = make_business("bella")
    owner = find_user(biz.owner_email).id
    with tenant_scope(biz.tenant_id):
        review = create_review(visit(biz, "anna@example.com"), rating=4, text="Nice cut")
        review.reply_text = "Thanks Anna, you were rude though."
        db.session.flush()
        report = moderation.report_content("review_reply", review.id, "abuse")
        moderation.act_on_report(report, "hide", by=owner)
        db.session.commit()
    page = client.get("/", base_url="http://bella.localhost").get_data(as_text=True)
    assert "Nice cut" in page and "you were rude" not in page
