"""A new review tells the business's owners and managers (in the app and by email, with a link
to the dashboard's reviews page); plain staff and the customer are not told."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.identity.service import find_user
from app.reviews.service import create_review
from app.tenants.context import tenant_scope
from tests.reviews.support import visit
from tests.support.conftest_mail import text_of
from tests.support.notification_support import bella, deliver_all, notifications_of

pytestmark = pytest.mark.integration


def test_owners_hear_of_a_new_review_once(ctx, mailbox):
    biz = bella()
    with tenant_scope(biz.tenant_id):
        create_review(visit(biz, name="Anna Kask"), rating=4)
        db.session.commit()
    deliver_all(ctx)
    deliver_all(ctx)
    owner = find_user(biz.owner_email)
    [notice] = [n for n in notifications_of(owner.id) if n.type == "review_received"]
    assert notice.title == "New 4-star review" and "Anna K. reviewed Haircut: 4 out of 5" in notice.body
    assert notice.url.startswith("http://bella.localhost") and "/dashboard/reviews#review-" in notice.url
    [mail] = mailbox.to(biz.owner_email, "New 4-star review")
    assert "/dashboard/reviews" in text_of(mail)
