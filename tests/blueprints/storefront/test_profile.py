"""The business's profile on its storefront home: cover, opening hours from working hours (in
the business's zone, closed days said so), where it is on the map, languages, amenities, social
links, the gallery, and what search engines and link previews read (JSON-LD, OpenGraph,
canonical URL from configuration), with booking still the first thing on the page."""

from __future__ import annotations

import json
import re

import pytest

from app.blueprints.storefront.profile import ld_json
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.tenants.photos import add_photo, set_thumbnail
from tests.factories import make_business

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


@pytest.fixture
def bella(ctx):
    business = make_business("bella", staff=2, hours={0: [("09:00", "12:00"), ("12:30", "17:30")],
                                                       5: [("10:00", "14:00")]})
    with tenant_scope(business.tenant_id):
        tenant = db.session.get(Tenant, business.tenant_id)
        tenant.name, tenant.category_slug, tenant.category = "Bella Hair Studio", "hair", "Hair salon"
        tenant.description = "Cuts & colour </script><b>since</b> 2009."
        tenant.address_line, tenant.postcode, tenant.city, tenant.country = "Nørregade 12", "1165", "København", "DK"
        tenant.phone, tenant.latitude, tenant.longitude = "+4533121212", 55.6794, 12.5776
        tenant.languages, tenant.amenities = ["da", "en"], ["wheelchair", "wifi"]
        tenant.social_links = {"instagram": "https://instagram.com/bella"}
        tenant.cover_key = f"covers/{business.tenant_id.hex}/00000000000000aa.webp"
        photo = add_photo(f"gallery/{business.tenant_id.hex}/00000000000000bb.webp", 1600, 1200, "Our chairs")
        set_thumbnail(photo, f"thumbs/{business.tenant_id.hex}/00000000000000cc.webp")
        add_photo(f"gallery/{business.tenant_id.hex}/00000000000000dd.webp", 800, 600)
        db.session.commit()
    return business


def _ld(html: str) -> dict:
    [raw] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(raw)


def test_the_profile_shows_cover_hours_place_languages_amenities_links_and_gallery(app, client, bella):
    html = client.get("/", base_url=BASE).data.decode()
    hexid = bella.tenant_id.hex
    assert f'<figure class="pf-cover"><img src="/media/covers/{hexid}/00000000000000aa.webp"' in html
    # Opening hours: Monday's two ranges, Saturday's, every other day closed.
    assert re.search(r"<th scope=\"row\">Monday.*?</th>\s*<td>09:00–12:00, 12:30–17:30</td>", html)
    assert re.search(r"<th scope=\"row\">Saturday.*?</th>\s*<td>10:00–14:00</td>", html)
    assert len(re.findall(r'<span class="closed">Closed</span>', html)) == 5
    assert "Local time (Europe/Copenhagen)." in html
    assert 'data-profile-map data-lat="55.6794" data-lon="12.5776"' in html
    assert "https://www.openstreetmap.org/?mlat=55.6794&amp;mlon=12.5776" in html  # works without tiles or JS
    assert "<li>English</li><li>Danish (dansk)</li>" in html
    assert '<li data-amenity="wheelchair">Wheelchair accessible</li><li data-amenity="wifi">Free Wi-Fi</li>' in html
    assert '<a href="https://instagram.com/bella" rel="noopener nofollow" target="_blank">Instagram</a>' in html
    # Gallery: thumbnails (or the photo while its thumbnail is being made) linking to the full photo.
    assert (f'<a href="/media/gallery/{hexid}/00000000000000bb.webp" data-lightbox data-alt="Our chairs"' in html
            and f'<img src="/media/thumbs/{hexid}/00000000000000cc.webp" alt="Our chairs"' in html)
    assert f'<img src="/media/gallery/{hexid}/00000000000000dd.webp" alt="Photo 2 of Bella Hair Studio"' in html
    # Booking stays first: the services list comes before the gallery and the facts.
    assert html.index('class="sf-services"') < html.index('id="photos"')


def test_search_engines_and_link_previews_read_the_business(app, client, bella):
    html = client.get("/", base_url=BASE, headers={"Host": "bella.localhost"}).data.decode()
    port = app.config["PUBLIC_PORT"]
    canonical = f"http://bella.localhost:{port}/"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert f'<meta property="og:url" content="{canonical}">' in html
    assert '<meta property="og:title" content="Bella Hair Studio">' in html
    cover = f"http://bella.localhost:{port}/media/covers/{bella.tenant_id.hex}/00000000000000aa.webp"
    assert f'<meta property="og:image" content="{cover}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert "</script><b>" not in html.split("<body")[0]  # the description cannot close the JSON-LD script
    data = _ld(html)
    assert data["@type"] == "LocalBusiness" and data["name"] == "Bella Hair Studio" and data["url"] == canonical
    assert data["description"] == "Cuts & colour </script><b>since</b> 2009."
    assert data["address"] == {"@type": "PostalAddress", "streetAddress": "Nørregade 12", "postalCode": "1165",
                               "addressLocality": "København", "addressCountry": "DK"}
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 55.6794, "longitude": 12.5776}
    assert data["telephone"] == "+4533121212" and data["image"][0] == cover
    assert data["openingHoursSpecification"][:3] == [
        {"@type": "OpeningHoursSpecification", "dayOfWeek": "https://schema.org/Monday", "opens": "09:00",
         "closes": "12:00"},
        {"@type": "OpeningHoursSpecification", "dayOfWeek": "https://schema.org/Monday", "opens": "12:30",
         "closes": "17:30"},
        {"@type": "OpeningHoursSpecification", "dayOfWeek": "https://schema.org/Saturday", "opens": "10:00",
         "closes": "14:00"}]
    assert data["priceRange"] and data["sameAs"] == ["https://instagram.com/bella"]
    assert "aggregateRating" not in data  # no reviews given: no rating claimed


def test_a_rating_is_claimed_only_with_reviews(app):
    with app.app_context():
        base = {"@type": "LocalBusiness", "name": "X"}
        assert "aggregateRating" not in str(ld_json(base, None))
        assert "aggregateRating" not in str(ld_json(base, {"average": 0, "count": 0}))
        text = str(ld_json(base, {"average": 4.8333, "count": 12}))
        data = json.loads(text.removeprefix('<script type="application/ld+json">').removesuffix("</script>"))
        assert data["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.83, "reviewCount": 12,
                                           "bestRating": 5, "worstRating": 1}


def test_a_bare_business_shows_no_empty_profile_sections(app, client, ctx):
    make_business("plain", staff=0)
    html = client.get("/", base_url="http://plain.localhost").data.decode()
    for marker in ('class="pf-cover"', 'id="hours"', 'id="where"', 'id="details"', 'id="links"', 'id="photos"'):
        assert marker not in html
    assert '<link rel="canonical"' in html and _ld(html)["name"] == "Plain"
