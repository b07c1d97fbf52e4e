"""Customer conveniences across businesses: the favourite heart on a profile and on the apex
(site/_favourite_button.html), the favourites list, recently viewed businesses (last 10, on the
landing and the account page), and "Book again" on past bookings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.community.models import CustomerFavourite
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.chat_fixtures import make_booking

pytestmark = pytest.mark.integration


@pytest.fixture
def world(app):
    with app.app_context():
        try:
            bella, fixit = make_business("bella"), make_business("fixit")
            make_user("cara@example.com", name="Cara Customer")
            make_user("dan@example.com", name="Dan")
            return bella, fixit
        finally:
            db.session.remove()


def _client(app, email: str, hosts=("localhost",)):
    client = app.test_client()
    for host in hosts:
        login_as(client, email, host=host)
    return client


def _favourites(app) -> set[tuple[str, str]]:
    with app.app_context(), platform_scope("test: every favourite"):
        try:
            return {(str(u), str(b)) for u, b in db.session.execute(
                sa.select(CustomerFavourite.user_id, CustomerFavourite.business_id))}
        finally:
            db.session.remove()


def test_the_heart_on_a_profile_and_on_the_apex(app, world):
    bella, fixit = world
    cara = _client(app, "cara@example.com", hosts=("localhost", "bella.localhost"))
    home = cara.get("/", base_url="http://bella.localhost")
    assert 'data-favourite="bella"' in home.text and 'aria-pressed="false"' in home.text
    resp = cara.post("/favourite", base_url="http://bella.localhost",
                     data={"csrf_token": csrf_from(home.data), "favourite": "1", "next": "/"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    assert 'aria-pressed="true"' in cara.get("/", base_url="http://bella.localhost").text
    # HTMX gets the heart back; on the apex any business by slug
    page = cara.get("/account/favourites")
    resp = cara.post("/account/favourites/fixit", data={"csrf_token": csrf_from(page.data), "favourite": "1"},
                     headers={"HX-Request": "true"})
    assert resp.status_code == 200 and 'data-favourite="fixit"' in resp.text and "Saved" in resp.text
    listing = cara.get("/account/favourites").text
    assert "bella" in listing.lower() and "fixit" in listing.lower()
    assert cara.post("/account/favourites/nobody", data={"csrf_token": csrf_from(page.data),
                                                         "favourite": "1"}).status_code == 404
    # unmark; a foreign `next` is ignored
    resp = cara.post("/account/favourites/bella", data={"csrf_token": csrf_from(page.data), "favourite": "0",
                                                        "next": "//evil.example/x"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/account/favourites"
    assert len(_favourites(app)) == 1
    # anonymous visitors are sent to log in; Dan sees none of Cara's
    anon = app.test_client()
    assert 'href="/login?next=' in anon.get("/", base_url="http://bella.localhost").text
    assert "fixit" not in _client(app, "dan@example.com").get("/account/favourites").text.lower()


def test_recently_viewed_keeps_the_last_ten_per_person(app, world):
    with app.app_context():
        slugs = [f"shop{i}" for i in range(11)]
        for slug in slugs:
            make_business(slug)
        db.session.remove()
    cara = _client(app, "cara@example.com", hosts=("localhost", *[f"{s}.localhost" for s in slugs]))
    for slug in slugs:
        assert cara.get("/", base_url=f"http://{slug}.localhost").status_code == 200
    landing = cara.get("/").text
    assert 'id="recently-viewed"' in landing
    section = landing[landing.index('id="recently-viewed"'):]
    shown = re.findall(r"//(shop\d+)\.localhost", section[:section.index("</section>")])
    assert shown[:10] == list(reversed(slugs))[:10] and "shop0" not in shown  # newest first, ten kept
    assert "Recently viewed" in cara.get("/account/favourites").text
    dan = _client(app, "dan@example.com")
    assert 'id="recently-viewed"' not in dan.get("/").text


def test_book_again_links_to_the_same_service_at_the_same_business(app, world):
    bella, _ = world
    with app.app_context():
        user_id = db.session.scalar(sa.text("select id from user_account where email = 'cara@example.com'"))
        booking_id, _ = make_booking(bella.tenant_id, "cara@example.com", user_id, days=2)
        with tenant_scope(bella.tenant_id):
            booking = db.session.get(Booking, (bella.tenant_id, booking_id))
            booking.starts_at -= timedelta(days=10)
            booking.ends_at -= timedelta(days=10)
            booking.blocked_until -= timedelta(days=10)
            booking.blocked_from -= timedelta(days=10)
            booking.status = "completed"
            service_id = booking.service_id
            db.session.commit()
        db.session.remove()
    page = _client(app, "cara@example.com").get("/account/bookings").text
    assert "Book again" in page
    assert re.search(rf'href="http://bella\.localhost(:\d+)?/book/{service_id}"[^>]*>Book again', page)
