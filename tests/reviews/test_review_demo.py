"""Demo reviews: a share of the completed bookings get reviews with varied ratings and some
replies; running it again writes none twice; no new-review notification is queued."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from app.booking.models import BookingStatus
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.reviews.demo import fill_demo_reviews
from app.reviews.models import Review
from app.reviews.queries import rating_summary
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.reviews.support import visit

pytestmark = pytest.mark.integration


def test_demo_reviews_cover_a_share_of_completed_visits_once(ctx):
    biz = make_business("bella", staff=3)
    with tenant_scope(biz.tenant_id):
        for i in range(24):
            visit(biz, f"c{i}@example.com", name=f"Cust{i} Demo", index=i % 8, days_ago=3 + 10 * (i // 8))
        visit(biz, "noshow@example.com", index=0, days_ago=50, status=BookingStatus.NO_SHOW)
        written = fill_demo_reviews(random.Random(7))
        assert 5 <= written <= 24
        assert fill_demo_reviews(random.Random(8)) == 0
        rows = list(db.session.scalars(sa.select(Review)))
        assert len(rows) == written == rating_summary().count
        assert len({r.rating for r in rows}) >= 2 and any(r.reply_text for r in rows)
        assert all(r.created_at >= r.visit_at for r in rows)
        # Demo data writes no review event: the seed rebuilds the listings itself, and a
        # thousand events would hold up the job queue on the first `make run`.
        kinds = set(db.session.scalars(sa.select(OutboxEvent.kind)))
        assert not {k for k in kinds if k.startswith("review.")}
