"""The read model: a business's listing is built from its own rows, kept current by events and
the sweep, rebuilt by ``flask marketplace reindex``, and holds the rating from review events."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from app.catalog.models import Service
from app.catalog.service import update_service
from app.extensions import db
from app.jobs.runner import JobSpec, run_in_tenant
from app.marketplace.models import MarketplaceListing
from app.marketplace.tasks import (
    listing_jobs_for_event,
    periodic_sweep,
    refresh_listing_job,
    reindex_all,
    stale_business_ids,
)
from app.reviews.moderation import set_review_hidden
from app.reviews.service import create_review
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.marketplace.support import listed, listing
from tests.reviews.support import visit

pytestmark = pytest.mark.integration


def test_a_listing_carries_what_the_business_shows(ctx):
    biz = listed("fade-house", services=[("Skin fade", 30, 2500), ("Beard trim", 20, 1500)],
                 description="Walk-ins welcome", hours={0: [("09:00", "12:00"), ("13:00", "17:00")]}, staff=1)
    row = listing(biz)
    assert (row.name, row.slug, row.category_slug, row.category_name) == ("Fade House", "fade-house", "barber",
                                                                          "Barber")
    assert (row.price_from_amount, row.price_currency) == (1500, "GBP")
    assert row.service_names == "Beard trim, Skin fade"
    assert row.rating_average is None and row.rating_count == 0
    assert row.opening_hours == [[0, "09:00", "12:00"], [0, "13:00", "17:00"]]
    assert row.next_available is not None and row.next_available > utcnow()
    assert row.next_available.astimezone().utcoffset() is not None  # tz-aware
    assert row.next_available.weekday() == 0  # only Mondays are open
    assert row.next_service_id in biz.service_ids
    assert not row.suspended and not row.unlisted


def test_the_tenant_role_reads_listings_but_cannot_write_them(ctx, services):
    listed("fade-house")
    with psycopg.connect(services["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")) as conn:
        assert conn.execute("select slug from marketplace_listing").fetchall() == [("fade-house",)]
        for sql in ("update marketplace_listing set name = 'x'", "delete from marketplace_listing"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()


def test_events_route_to_a_refresh_and_review_summaries_to_the_rating(ctx):
    assert listing_jobs_for_event("booking.confirmed", "t1", "e1", {"booking_id": "b"}) == [
        JobSpec("app.marketplace.tasks.refresh_listing_job", ("t1",))]
    summary = {"average": 4.6, "count": 12, "dimensions": {"quality": 4.8, "communication": 4.5,
                                                           "professionalism": None, "value": 4.2}}
    assert listing_jobs_for_event("review.changed", "t1", "e2", summary) == [
        JobSpec("app.marketplace.tasks.refresh_listing_job", ("t1",))]
    assert listing_jobs_for_event("chat.message_created", "t1", "e3", {}) == []


def test_the_listing_carries_the_exact_review_summary_after_each_change(ctx):
    biz = listed("fade-house")
    assert (listing(biz).rating_average, listing(biz).rating_count) == (None, 0)  # "no reviews yet", never 0
    with tenant_scope(biz.tenant_id):
        first = create_review(visit(biz, "a@example.com", index=0), rating=5, ratings={"quality": 5})
        create_review(visit(biz, "b@example.com", index=1), rating=4, ratings={"quality": 3})
        db.session.commit()
    refresh_listing_job(str(biz.tenant_id))  # what the review.changed event routes to (test above)
    row = listing(biz)
    assert (row.rating_average, row.rating_count) == (4.5, 2) and row.rating_dimensions["quality"] == 4.0
    with tenant_scope(biz.tenant_id):
        set_review_hidden(first.id, True)
        db.session.commit()
    refresh_listing_job(str(biz.tenant_id))
    assert (listing(biz).rating_average, listing(biz).rating_count) == (4.0, 1)
    assert reindex_all() == 1
    assert (listing(biz).rating_average, listing(biz).rating_count) == (4.0, 1)


def test_the_sweep_rebuilds_what_changed_and_leaves_the_rest(ctx):
    a = listed("fade-house")
    b = listed("sharp-cuts", point=(51.52, -0.13))
    assert stale_business_ids() == []
    # a price change (catalogue: bumps the availability version, no event)
    def cheaper():
        update_service(db.session.scalar(sa.select(Service).where(Service.id == a.service_ids[0])), price_amount=900)
    run_in_tenant(str(a.tenant_id), cheaper)
    # a profile change (no event either)
    with platform_scope("test"):
        db.session.get(Tenant, b.tenant_id).name = "Sharp Cuts Soho"
        db.session.commit()
    assert set(stale_business_ids()) == {a.tenant_id, b.tenant_id}
    assert periodic_sweep() == 2
    assert listing(a).price_from_amount == 900 and listing(b).name == "Sharp Cuts Soho"
    assert stale_business_ids() == []
    # the next free slot coming within the lead time (it can no longer be booked) makes the
    # listing stale within the sweep, not only once the slot has passed
    with platform_scope("test"):
        lead = db.session.get(Tenant, a.tenant_id).lead_time_minutes
    bookable_until = listing(a).next_available - timedelta(minutes=lead)
    with platform_scope("test: the row was rebuilt a minute before that moment (not too old by age)"):
        db.session.get(MarketplaceListing, a.tenant_id).updated_at = bookable_until - timedelta(minutes=1)
        db.session.commit()
    assert a.tenant_id not in stale_business_ids(bookable_until - timedelta(seconds=1))
    assert a.tenant_id in stale_business_ids(bookable_until + timedelta(seconds=1))


def test_suspended_and_serviceless_businesses_are_not_listed(ctx):
    biz = listed("fade-house")
    with platform_scope("test"):
        db.session.get(Tenant, biz.tenant_id).suspended_at = utcnow()
        db.session.commit()
    assert stale_business_ids() == [biz.tenant_id]
    periodic_sweep()
    assert listing(biz).suspended is True

def test_a_business_without_services_is_unlisted(ctx):
    biz = listed("fade-house")

    def retire():
        update_service(db.session.scalar(sa.select(Service).where(Service.id == biz.service_ids[0])), active=False)
    run_in_tenant(str(biz.tenant_id), retire)
    periodic_sweep()
    row = listing(biz)
    assert row.unlisted is True and row.next_available is None


def test_reindex_command_rebuilds_every_listing(app, ctx):
    listed("fade-house")
    listed("sharp-cuts")
    with platform_scope("test"):
        db.session.execute(sa.delete(MarketplaceListing))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["marketplace", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt 2 marketplace listings." in result.output
    assert sorted(db.session.scalars(sa.select(MarketplaceListing.slug))) == ["fade-house", "sharp-cuts"]
