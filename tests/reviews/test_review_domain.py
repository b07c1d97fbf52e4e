"""Reviews' domain: who may review what and when, editing, replies, sanitised text, exact
aggregates that follow every change, the ``review.changed`` events, and moderation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.booking.models import BookingStatus
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.reviews.errors import (
    AlreadyReviewed,
    EditWindowClosed,
    EmptyReply,
    InvalidRating,
    NotCompleted,
    ReviewWindowClosed,
    TextTooLong,
)
from app.reviews.models import Review
from app.reviews.moderation import remove_review, set_reply_hidden, set_review_hidden
from app.reviews.queries import rating_for_profile, rating_summary, visible_reviews
from app.reviews.service import create_review, edit_review, reply_to_review
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business
from tests.reviews.support import visit

pytestmark = pytest.mark.integration


def _changed() -> list[dict]:
    return [e.payload for e in db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.kind == "review.changed").order_by(OutboxEvent.created_at))]


def test_customer_reviews_a_completed_visit_once_with_a_verified_snapshot(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        booking = visit(biz, name="Anna Maria Kask")
        review = create_review(booking, rating=5, ratings={"quality": 5, "value": 4}, text="Lovely cut")
        assert (review.author_name, review.service_name, review.visit_at) == ("Anna K.", "Haircut", booking.starts_at)
        assert review.ratings == {"quality": 5, "communication": None, "professionalism": None, "value": 4}
        with pytest.raises(AlreadyReviewed) as exc:
            create_review(booking, rating=3)
        assert "already reviewed" in exc.value.message
        db.session.rollback()


@pytest.mark.parametrize("status", [BookingStatus.CONFIRMED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED])
def test_only_completed_visits_can_be_reviewed(ctx, status):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        booking = visit(biz, status=status)
        with pytest.raises(NotCompleted) as exc:
            create_review(booking, rating=5)
        assert "completed" in exc.value.message


def test_reviews_close_sixty_days_after_the_visit(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        old = visit(biz, days_ago=61)
        recent = visit(biz, "bo@example.com", days_ago=59, index=1)
        with pytest.raises(ReviewWindowClosed) as exc:
            create_review(old, rating=4)
        assert "60 days" in exc.value.message
        assert create_review(recent, rating=4).rating == 4


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"rating": 0}, "rating"), ({"rating": 6}, "rating"), ({"rating": None}, "rating"), ({"rating": "x"}, "rating"),
    ({"rating": True}, "rating"), ({"rating": 4, "ratings": {"quality": 9}}, "ratings.quality"),
    ({"rating": 4, "ratings": {"looks": 3}}, "ratings.looks"), ({"rating": 4, "text": "a" * 2001}, "text"),
])
def test_bad_values_name_the_field_and_write_nothing(ctx, kwargs, field):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        booking = visit(biz)
        with pytest.raises((InvalidRating, TextTooLong)) as exc:
            create_review(booking, **kwargs)
        assert exc.value.field == field and exc.value.message
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0


def test_no_html_survives_in_the_text(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        review = create_review(visit(biz), rating=5, text=(
            '<b>Great</b> cut &amp; colour<script>alert(1)</script> &lt;img src=x onerror=alert(1)&gt;'))
        assert review.text == "Great cut & colour"
        assert "<" not in review.text


def test_editable_for_fourteen_days_then_refused(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        review = create_review(visit(biz), rating=2, text="Meh")
        edit_review(review, rating=4, ratings={"communication": 5}, text="Better after all")
        assert (review.rating, review.communication, review.text) == (4, 5, "Better after all")
        assert review.edited_at is not None
        with pytest.raises(EditWindowClosed):
            edit_review(review, rating=5, now=review.created_at + timedelta(days=15))


def test_aggregates_are_exact_after_every_change_and_each_change_is_announced(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        assert rating_summary().count == 0 and rating_summary().average is None
        assert rating_for_profile() is None
        first = create_review(visit(biz, index=0), rating=5, ratings={"quality": 5})
        second = create_review(visit(biz, "bo@example.com", index=1), rating=2, ratings={"quality": 3, "value": 2})
        summary = rating_summary()
        assert (summary.average, summary.count) == (3.5, 2)
        assert summary.dimensions == {"quality": 4.0, "communication": None, "professionalism": None, "value": 2.0}
        assert rating_for_profile() == {"average": 3.5, "count": 2}
        set_review_hidden(second.id, True)
        assert (rating_summary().average, rating_summary().count) == (5.0, 1)
        assert visible_reviews()[0] == [first]
        set_review_hidden(second.id, False)
        edit_review(first, rating=4)
        assert rating_summary().average == 3.0
        remove_review(first.id)
        assert (rating_summary().average, rating_summary().count) == (2.0, 1)
        set_review_hidden(first.id, False)  # removed stays removed
        assert rating_summary().count == 1
        events = _changed()
        assert len(events) == 6
        assert events[-1] == {"review_id": str(first.id), "average": 2.0, "count": 1,
                              "dimensions": {"quality": 3.0, "communication": None, "professionalism": None,
                                             "value": 2.0}}


def test_aggregates_are_per_business(ctx):
    bella, fixit = make_business("bella"), make_business("fixit")
    with tenant_scope(bella.tenant_id):
        create_review(visit(bella), rating=5)
    with tenant_scope(fixit.tenant_id):
        create_review(visit(fixit), rating=1)
        assert (rating_summary().average, rating_summary().count) == (1.0, 1)


def test_reply_once_editable_and_hideable(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        review = create_review(visit(biz), rating=4)
        with pytest.raises(EmptyReply):
            reply_to_review(review, "  <p></p> ", None)
        reply_to_review(review, "Thank you, <i>Anna</i>!", None)
        assert review.public_reply == "Thank you, Anna!"
        reply_to_review(review, "Thanks Anna", None)
        assert review.reply_text == "Thanks Anna"
        set_reply_hidden(review.id, True)
        assert review.public_reply is None and review.visible


def test_the_database_keeps_one_review_per_booking(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        booking = visit(biz)
        create_review(booking, rating=5)
        db.session.add(Review(booking_id=booking.id, customer_id=booking.customer_id, service_name="x",
                              visit_at=utcnow(), rating=3))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_hidden_reviews_photo_stops_loading_from_its_link_and_comes_back_on_restore(ctx, client):
    import io

    from PIL import Image

    from app.storage.images import prepare_photo, store_photo
    from app.storage.local import default_storage
    from app.uow import unit_of_work

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 90)).save(buffer, "PNG")
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        key = store_photo(default_storage(), biz.tenant_id, prepare_photo(buffer.getvalue(), max_bytes=10**6), "review")
        review = create_review(visit(biz), rating=1, text="Look at this", photo_keys=[key])
        db.session.commit()
    link = f"/media/{key}"
    assert client.get(link, base_url="http://localhost").status_code == 200
    with tenant_scope(biz.tenant_id), unit_of_work():
        set_review_hidden(review.id, True)
    assert client.get(link, base_url="http://localhost").status_code == 404
    assert client.get(link, base_url="http://bella.localhost").status_code == 404
    with tenant_scope(biz.tenant_id), unit_of_work():
        set_review_hidden(review.id, False)
    assert client.get(link, base_url="http://localhost").status_code == 200
    with tenant_scope(biz.tenant_id), unit_of_work():
        remove_review(review.id)
    assert client.get(link, base_url="http://localhost").status_code == 404
