"""A signed-in customer's bookings list offers "Leave a review" on completed visits (within the
review window), linking to the business's review page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.booking.models import BookingStatus, Customer
from app.extensions import db
from app.reviews.links import booking_from_review_token
from app.tenants.context import tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import login_as
from tests.reviews.support import visit

pytestmark = pytest.mark.integration


def test_completed_visits_offer_a_review_link(ctx, client):
    biz = make_business("bella")
    user_id = make_user("xena@example.com", name="Xena Warrior")
    with tenant_scope(biz.tenant_id):
        done = visit(biz, "xena@example.com", name="Xena Warrior", index=0)
        visit(biz, "xena@example.com", name="Xena Warrior", index=1, status=BookingStatus.NO_SHOW)
        visit(biz, "xena@example.com", name="Xena Warrior", index=2, days_ago=70)
        db.session.execute(sa.update(Customer).values(user_id=user_id))
        done_id = done.id
        db.session.commit()
    login_as(client, "xena@example.com")
    html = client.get("/account/bookings").get_data(as_text=True)
    assert html.count("Leave a review") == 1
    link = html.split("Leave a review")[0].rsplit('href="', 1)[1].split('"')[0]
    assert link.startswith("http://bella.localhost") and "/review/" in link
    page = client.get("/" + link.split("/", 3)[3], base_url="http://bella.localhost")
    assert page.status_code == 200 and "How was your Haircut?" in page.get_data(as_text=True)
    with tenant_scope(biz.tenant_id):
        assert booking_from_review_token(link.rsplit("/", 1)[1]).id == done_id
