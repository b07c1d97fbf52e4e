"""What crawlers read on the apex: robots.txt naming the sitemap, and a sitemap of every listed
business's profile URL (from configuration) with its lastmod, paged as a sitemap index above
``SITEMAP_PAGE_SIZE``; suspended businesses are left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def page_size(app):
    before = app.config.get("SITEMAP_PAGE_SIZE")
    yield lambda n: app.config.update(SITEMAP_PAGE_SIZE=n)
    app.config["SITEMAP_PAGE_SIZE"] = before


@pytest.fixture
def three(ctx):
    made = [make_business(slug) for slug in ("alpha", "bravo", "charlie")]
    db.session.rollback()
    with platform_scope("test: a profile edited, a business suspended"):
        db.session.execute(sa.update(Tenant).where(Tenant.slug == "bravo")
                           .values(profile_updated_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC)))
        db.session.execute(sa.update(Tenant).where(Tenant.slug == "charlie").values(suspended_at=sa.func.now()))
        db.session.commit()
    return made


def test_robots_on_the_apex_names_the_sitemap_and_hides_private_pages(app, client, ctx):
    resp = client.get("/robots.txt", base_url=APEX)
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    text = resp.data.decode()
    assert text.startswith("User-agent: *\n")
    assert "Disallow: /dashboard/\n" in text and "Disallow: /manage/\n" in text and "Allow: /\n" in text
    assert f"Sitemap: http://localhost:{app.config['PUBLIC_PORT']}/sitemap.xml" in text
    make_business("bella")
    on_business = client.get("/robots.txt", base_url="http://bella.localhost").data.decode()
    assert "Disallow: /dashboard/" in on_business and "Sitemap:" not in on_business
    assert client.get("/sitemap.xml", base_url="http://bella.localhost").status_code == 404


def test_the_sitemap_lists_listed_profiles_with_lastmod(app, client, three):
    resp = client.get("/sitemap.xml", base_url=APEX)
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    body = resp.data.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/')
    port = app.config["PUBLIC_PORT"]
    locs = re.findall(r"<loc>(.*?)</loc><lastmod>(.*?)</lastmod>", body)
    assert [loc for loc, _ in locs] == [f"http://alpha.localhost:{port}/", f"http://bravo.localhost:{port}/"]
    assert locs[1][1] == "2026-12-01T09:30:00+00:00"  # the profile's last change
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", locs[0][1])  # created, never edited
    assert "charlie" not in body  # suspended


def test_above_the_page_size_the_sitemap_is_an_index_of_pages(app, client, three, page_size):
    make_business("delta")
    page_size(2)
    port = app.config["PUBLIC_PORT"]
    index = client.get("/sitemap.xml", base_url=APEX).data.decode()
    assert "<sitemapindex" in index
    pages = re.findall(r"<sitemap><loc>(.*?)</loc><lastmod>(.*?)</lastmod></sitemap>", index)
    assert [loc for loc, _ in pages] == [f"http://localhost:{port}/sitemap-1.xml", f"http://localhost:{port}/sitemap-2.xml"]
    first = client.get("/sitemap-1.xml", base_url=APEX).data.decode()
    second = client.get("/sitemap-2.xml", base_url=APEX).data.decode()
    assert re.findall(r"<loc>http://(\w+)\.localhost", first) == ["alpha", "bravo"]
    assert re.findall(r"<loc>http://(\w+)\.localhost", second) == ["delta"]
    assert pages[0][1] == max(re.findall(r"<lastmod>(.*?)</lastmod>", first))  # the page's newest change
    assert client.get("/sitemap-3.xml", base_url=APEX).status_code == 404
    assert client.get("/sitemap-0.xml", base_url=APEX).status_code == 404
    page_size(50_000)
    assert client.get("/sitemap-1.xml", base_url=APEX).status_code == 404  # one page: no index


def test_saving_the_profile_moves_its_lastmod(app, client, ctx):
    from tests.helpers import csrf_from, login_as

    bella = make_business("bella")
    owner = app.test_client()
    login_as(owner, bella.owner_email, host="bella.localhost")
    token = csrf_from(owner.get("/dashboard/", base_url="http://bella.localhost").data)
    before = datetime.now(UTC).replace(microsecond=0)
    resp = owner.post("/dashboard/business", base_url="http://bella.localhost",
                      data={"csrf_token": token, "name": "Bella", "timezone": "Europe/Copenhagen", "currency": "DKK",
                            "service_area": "premises"})
    assert resp.status_code == 303
    [(_, lastmod)] = re.findall(r"<loc>(.*?)</loc><lastmod>(.*?)</lastmod>",
                                client.get("/sitemap.xml", base_url=APEX).data.decode())
    assert datetime.fromisoformat(lastmod) >= before
