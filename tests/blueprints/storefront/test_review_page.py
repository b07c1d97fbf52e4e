"""The review page from the after-visit email, the profile's reviews and the public reviews page:
what the customer sees and can do with the link, refusals in words, inline errors (422) that
write nothing, hidden content never served, the rate limit on posting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.links import manage_token
from app.booking.models import Booking, BookingStatus
from app.booking.service import Actor, transition
from app.catalog.models import Service
from app.extensions import db
from app.reviews.links import review_path
from app.reviews.models import Review
from app.reviews.moderation import set_reply_hidden, set_review_hidden
from app.reviews.service import create_review, reply_to_review
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from
from tests.reviews.support import visit
from tests.support.conftest_mail import text_of
from tests.support.notification_support import bella, book, day_at, deliver_all

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


def _link(biz, **kwargs) -> tuple[str, str]:
    """A completed visit of Anna's and its review page path; also returns the booking id."""
    with tenant_scope(biz.tenant_id):
        booking = visit(biz, **kwargs)
        db.session.commit()
        return review_path(manage_token(booking)), str(booking.id)


def _post(client, path: str, data: dict, addr: int = 1):
    page = client.get(path, base_url=BASE, environ_base={"REMOTE_ADDR": f"203.0.113.{addr}"})
    token = csrf_from(page.data)
    return client.post(path, data={"csrf_token": token, **data}, base_url=BASE,
                       environ_base={"REMOTE_ADDR": f"203.0.113.{addr}"})


def _reviews(biz) -> list[tuple[int, str, bool]]:
    """(rating, text, edited?) of every review of ``biz``."""
    with tenant_scope(biz.tenant_id):
        rows = [(r.rating, r.text, r.edited_at is not None) for r in db.session.scalars(sa.select(Review))]
        db.session.rollback()
        return rows


def test_from_the_email_link_to_a_review_on_the_profile(ctx, client, mailbox):
    biz = bella()
    start = day_at(3, 10)
    booking_id = book(biz, start, email="guest@example.com")
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(b, "complete", Actor("staff"), now=start + timedelta(hours=1))
        db.session.commit()
    deliver_all(ctx)
    [thanks] = mailbox.to("guest@example.com", "How was Haircut?")
    url = re.search(r"http://bella\.localhost:\d+(/review/\S+)", text_of(thanks)).group(1)
    page = client.get(url, base_url=BASE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "How was your Haircut?" in html
    assert html.count('name="rating"') == 5 and '<legend>Your overall rating' in html
    resp = _post(client, url, {"rating": "5", "quality": "5", "value": "4",
                               "text": "<b>Lovely</b> cut, thank you!"})
    assert resp.status_code == 303
    shown = client.get(url, base_url=BASE).get_data(as_text=True)
    assert "Your review" in shown and "Lovely cut, thank you!" in shown and "<b>Lovely" not in shown
    assert "Edit your review" in shown
    assert "Verified visit · Haircut · " + start.strftime("%B %Y") in shown
    profile = client.get("/", base_url=BASE).get_data(as_text=True)
    assert "5.0" in profile and "1 verified review" in profile and "Lovely cut, thank you!" in profile
    # a bar per rated dimension, as long as its score (an SVG attribute: the CSP blocks inline styles)
    bars = dict(re.findall(r'<dt>([^<]+)</dt>\s*<dd><svg class="rv-bar"[^>]*><rect class="rv-bar-fill" width="([\d.]+)"',
                           profile))
    assert bars == {"Quality": "100.0", "Value for money": "80.0"}
    assert profile.count("Not rated yet") == 2 and " style=" not in profile


def test_no_reviews_yet_is_said_not_zero_stars(ctx, client):
    make_business("bella")
    profile = client.get("/", base_url=BASE).get_data(as_text=True)
    assert "No reviews yet." in profile and "0.0" not in profile
    assert "No reviews yet." in client.get("/reviews", base_url=BASE).get_data(as_text=True)


def test_missing_rating_and_long_text_are_shown_inline_with_422_and_nothing_written(ctx, client):
    biz = make_business("bella")
    path, _ = _link(biz)
    resp = _post(client, path, {"text": "Nice"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Choose a rating from 1 to 5 stars." in html
    assert 'id="rating-error"' in html and "Nice</textarea>" in html
    resp = _post(client, path, {"rating": "4", "quality": "9"})
    assert resp.status_code == 422 and "A rating is a whole number from 1 to 5." in resp.get_data(as_text=True)
    resp = _post(client, path, {"rating": "4", "text": "a" * 2001})
    assert resp.status_code == 422 and "Please keep it to 2,000 characters" in resp.get_data(as_text=True)
    assert _reviews(biz) == []


def test_a_visit_not_completed_cannot_be_reviewed(ctx, client):
    biz = make_business("bella")
    path, _ = _link(biz, status=BookingStatus.CONFIRMED)
    page = client.get(path, base_url=BASE).get_data(as_text=True)
    assert "once it has taken place" in page and 'name="rating"' not in page
    resp = client.post(path, data={"csrf_token": csrf_from(client.get("/", base_url=BASE).data), "rating": "5"},
                       base_url=BASE)
    assert resp.status_code == 409 and "once it has taken place" in resp.get_data(as_text=True)
    assert _reviews(biz) == []


def test_edit_within_fourteen_days_then_only_shown(ctx, client):
    biz = make_business("bella")
    path, _ = _link(biz)
    assert _post(client, path, {"rating": "2", "text": "Slow"}).status_code == 303
    edit = client.get(path + "?edit=1", base_url=BASE).get_data(as_text=True)
    assert "Change your review" in edit and 'value="2" checked' in edit and "Slow</textarea>" in edit
    assert _post(client, path + "?edit=1", {"rating": "4", "text": "Better than I said"}).status_code == 303
    assert _reviews(biz) == [(4, "Better than I said", True)]
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.update(Review).values(created_at=Review.created_at - timedelta(days=15)))
        db.session.commit()
    shown = client.get(path, base_url=BASE).get_data(as_text=True)
    assert "Edit your review" not in shown and "Better than I said" in shown
    assert client.get(path + "?edit=1", base_url=BASE).status_code == 409


def test_a_forged_or_foreign_link_is_404(ctx, client):
    biz = make_business("bella")
    make_business("fixit")
    path, _ = _link(biz)
    assert client.get("/review/not-a-token", base_url=BASE).status_code == 404
    assert client.get(path, base_url="http://fixit.localhost").status_code == 404


def test_hidden_reviews_and_replies_are_never_served(ctx, client):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        shown = create_review(visit(biz, index=0), rating=5, text="Shown review")
        hidden = create_review(visit(biz, "bo@example.com", name="Bo Berg", index=1), rating=1, text="Hidden rant")
        reply_to_review(shown, "Hidden reply", None)
        set_reply_hidden(shown.id, True)
        set_review_hidden(hidden.id, True)
        db.session.commit()
    for path in ("/", "/reviews"):
        html = client.get(path, base_url=BASE).get_data(as_text=True)
        assert "Shown review" in html and "Hidden rant" not in html and "Hidden reply" not in html
        assert "1 verified review" in html


def test_reviews_page_is_paginated_with_the_reply(ctx, client):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        for i in range(12):
            r = create_review(visit(biz, f"c{i}@example.com", name=f"Cust{i} Omer", index=i % 8, days_ago=3 + i // 8),
                              rating=4, text=f"Review number {i}")
            if i == 11:
                reply_to_review(r, "Thanks for coming back!", None)
        db.session.commit()
    first = client.get("/reviews", base_url=BASE).get_data(as_text=True)
    assert "Review number 11" in first and "Thanks for coming back!" in first and "Reply from Bella" in first
    assert first.count('class="rv-item"') == 10 and "Older" in first
    second = client.get("/reviews?page=2", base_url=BASE, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert second.count('class="rv-item"') == 2 and "<html" not in second


def test_posting_is_rate_limited(ctx, client):
    biz = make_business("bella")
    path, _ = _link(biz)
    token = csrf_from(client.get(path, base_url=BASE).data)
    codes = [client.post(path, data={"csrf_token": token, "text": "x"}, base_url=BASE,
                         environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code for _ in range(11)]
    assert codes[:10] == [422] * 10 and codes[10] == 429


def test_the_reviewed_service_reads_in_the_readers_language_and_stays_as_reviewed(ctx, client):
    """bella wrote "Dameklip" for its Haircut: a Danish reader reads the review line and the review
    page's question in Danish, an English one in English; renaming the service later changes
    neither (the review keeps what was reviewed, in both languages)."""
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        service = db.session.scalar(sa.select(Service).where(Service.id == biz.service_ids[0]))
        service.translations = {"da": {"name": "Dameklip"}}
        booking = visit(biz)
        db.session.flush()
        path = review_path(manage_token(booking))
        create_review(booking, rating=5, text="Fint")
        db.session.commit()
    danish = {"Accept-Language": "da-DK,da;q=0.9"}
    english = {"Accept-Language": "en-GB,en;q=0.8"}
    assert "Bekræftet besøg · Dameklip · " in client.get("/", base_url=BASE, headers=danish).get_data(as_text=True)
    assert "Verified visit · Haircut · " in client.get("/", base_url=BASE, headers=english).get_data(as_text=True)

    with tenant_scope(biz.tenant_id):
        service = db.session.scalar(sa.select(Service).where(Service.id == biz.service_ids[0]))
        service.name, service.translations = "Cut & finish", {"da": {"name": "Klip og styling"}}
        db.session.commit()
    assert "Bekræftet besøg · Dameklip · " in client.get("/", base_url=BASE, headers=danish).get_data(as_text=True)
    assert "Verified visit · Haircut · " in client.get("/", base_url=BASE, headers=english).get_data(as_text=True)

    with tenant_scope(biz.tenant_id):
        other = visit(biz, "bo@example.com", name="Bo Berg")
        db.session.commit()
        unreviewed = review_path(manage_token(other))
    assert path != unreviewed
    question = client.get(unreviewed, base_url=BASE, headers=danish).get_data(as_text=True)
    assert "Klip og styling" in question and "Cut &amp; finish" not in question
