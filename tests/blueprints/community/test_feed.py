"""The apex feed: posts from the signed-in customer's favourite businesses and from businesses
near a chosen city or the browser's location, newest first; hidden posts and drafts never."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.community import posts
from app.community.models import Post
from app.extensions import db
from app.outbox.relay import relay_all
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration


def handle_events(app) -> None:
    """What the worker does between a change and the feed: relay the outbox, run the jobs."""
    with app.app_context():
        try:
            relay_all()
            assert run_jobs(app) == []
        finally:
            db.session.remove()

#: (slug, lat, lon): two shops in Copenhagen, one in London.
SHOPS = (("bella", 55.6761, 12.5683), ("nordic", 55.70, 12.55), ("fixit", 51.5072, -0.1276))


@pytest.fixture
def world(app):
    with app.app_context():
        try:
            ids = {}
            for slug, lat, lon in SHOPS:
                biz = make_business(slug)
                ids[slug] = biz.tenant_id
                with platform_scope("test: place the shop"):
                    db.session.execute(sa.update(Tenant).where(Tenant.id == biz.tenant_id)
                                       .values(latitude=lat, longitude=lon))
                    db.session.commit()
                with tenant_scope(biz.tenant_id):
                    posts.create_post(f"News from {slug}", author_user_id=None)
                    posts.create_post(f"Draft of {slug}", author_user_id=None, publish=False)
                    db.session.commit()
            make_user("cara@example.com", name="Cara")
        finally:
            db.session.remove()
    handle_events(app)
    return ids


def test_near_a_city_shows_the_posts_of_businesses_around_it(app, world):
    page = app.test_client().get("/feed?city=Copenhagen")
    assert page.status_code == 200
    assert "News from bella" in page.text and "News from nordic" in page.text
    assert "News from fixit" not in page.text and "Draft of" not in page.text
    assert "Near Copenhagen" in page.text
    assert "News from fixit" in app.test_client().get("/feed?lat=51.5&lon=-0.12&radius_km=10").text
    # HTMX asks for the results only
    part = app.test_client().get("/feed?city=London", headers={"HX-Request": "true"})
    assert "News from fixit" in part.text and "<html" not in part.text


def test_favourites_join_the_feed_wherever_they_are(app, world):
    cara = app.test_client()
    login_as(cara, "cara@example.com")
    assert not any(f"News from {s}" in cara.get("/feed").text for s, _, _ in SHOPS)
    page = cara.get("/account/favourites")
    cara.post("/account/favourites/fixit", data={"csrf_token": csrf_from(page.data), "favourite": "1"})
    feed = cara.get("/feed?city=Copenhagen").text
    assert all(f"News from {s}" in feed for s in ("bella", "nordic", "fixit"))
    assert feed.index("News from fixit") > 0 and "♥ Favourite" in feed
    # a hidden post leaves the feed
    with app.app_context(), tenant_scope(world["fixit"]):
        post_id = db.session.scalar(sa.select(Post.id).where(Post.status == "published"))
        posts.set_post_hidden(post_id, True)
        db.session.commit()
        db.session.remove()
    handle_events(app)
    assert "News from fixit" not in cara.get("/feed?city=Copenhagen").text


def test_bad_places_answer_422(app, world):
    client = app.test_client()
    resp = client.get("/feed?lat=200&lon=0")
    assert resp.status_code == 422 and "not valid" in resp.text
    resp = client.get("/feed?city=Atlantisxyz")
    assert resp.status_code == 422 and "could not find a city" in resp.text
    assert client.get("/feed", base_url="http://bella.localhost").status_code == 404  # apex only
