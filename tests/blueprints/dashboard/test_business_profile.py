"""The marketplace side of the business settings page: category from the taxonomy, the pin
(geocoded from the address or placed by hand), service area, languages, amenities, social links
and the cover photo; refused input answered 422 beside its field with nothing written."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.outbox.models import OutboxEvent
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import MarketplaceCategory, Tenant
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"

FORM = {"name": "Bella Hair Studio", "category": "hair", "timezone": "Europe/Copenhagen", "currency": "DKK",
        "phone": "", "public_email": "", "address_line": "Nørregade 12", "postcode": "1165", "city": "København",
        "country": "DK", "description": "", "service_area": "premises"}


@pytest.fixture
def bella(ctx):
    return make_business("bella")


def _owner(app, bella):
    client = app.test_client()
    login_as(client, bella.owner_email, host=HOST)
    return client


def _save(client, data: dict, files: dict | None = None):
    token = csrf_from(client.get("/dashboard/", base_url=BASE).data)
    payload = {"csrf_token": token, **data, **(files or {})}
    return client.post("/dashboard/business", base_url=BASE, data=payload, content_type="multipart/form-data")


def _tenant(bella) -> Tenant:
    db.session.expire_all()
    with tenant_scope(bella.tenant_id):
        return db.session.get(Tenant, bella.tenant_id)


def _set_active(slug: str, active: bool) -> None:
    db.session.rollback()
    with platform_scope("test: retire a category"):
        db.session.execute(sa.update(MarketplaceCategory).where(MarketplaceCategory.slug == slug)
                           .values(active=active))
        db.session.commit()


def test_the_category_list_is_the_taxonomy_and_a_retired_one_is_kept_not_offered(app, bella, media_root):
    owner = _owner(app, bella)
    html = owner.get("/dashboard/business", base_url=BASE).data.decode()
    for slug, name in (("hair", "Hair salon"), ("barber", "Barber"), ("pet-care", "Pet care")):
        assert f'<option value="{slug}">{name}</option>' in html
    assert _save(owner, {**FORM, "category": "barber"}).status_code == 303
    assert (_tenant(bella).category_slug, _tenant(bella).category) == ("barber", "Barber")
    _set_active("barber", False)
    try:
        html = owner.get("/dashboard/business", base_url=BASE).data.decode()
        assert '<option selected value="barber">Barber</option>' in html  # still theirs
        assert _save(owner, {**FORM, "category": "barber"}).status_code == 303
        assert _save(owner, {**FORM, "category": "nails"}).status_code == 303
        refused = _save(owner, {**FORM, "category": "barber"})  # gone once left
        assert refused.status_code == 422 and "Choose one of the listed categories." in refused.data.decode()
        assert _tenant(bella).category_slug == "nails"
    finally:
        _set_active("barber", True)  # the taxonomy is kept across tests


def test_the_address_is_placed_on_the_map_and_a_hand_placed_pin_wins(app, bella, media_root):
    owner = _owner(app, bella)
    assert _save(owner, FORM).status_code == 303
    tenant = _tenant(bella)
    assert (tenant.latitude, tenant.longitude) == (55.6794, 12.5776)  # postcode 1165's centre
    page = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert 'name="latitude" step="any" type="text" value="55.6794"' in page or 'value="55.6794"' in page
    assert "data-pin-map" in page and 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page
    # The owner drags the pin to the door: kept.
    assert _save(owner, {**FORM, "latitude": "55.68095", "longitude": "12.571734"}).status_code == 303
    assert (_tenant(bella).latitude, _tenant(bella).longitude) == (55.68095, 12.571734)
    # Saving again with the same pin and address keeps it.
    assert _save(owner, {**FORM, "latitude": "55.68095", "longitude": "12.571734", "description": "Hi"}).status_code == 303
    assert (_tenant(bella).latitude, _tenant(bella).longitude) == (55.68095, 12.571734)
    # A new address (pin untouched) is geocoded again.
    moved = {**FORM, "address_line": "Østerbrogade 1", "postcode": "2100", "latitude": "55.68095",
             "longitude": "12.571734"}
    assert _save(owner, moved).status_code == 303
    assert (_tenant(bella).latitude, _tenant(bella).longitude) == (55.7, 12.582)


def test_an_address_the_geocoder_cannot_find_keeps_the_pin_and_says_so(app, bella, media_root):
    owner = _owner(app, bella)
    assert _save(owner, FORM).status_code == 303
    resp = _save(owner, {**FORM, "address_line": "Somewhere 1", "postcode": "", "city": "Xyzzyville",
                         "latitude": "55.6794", "longitude": "12.5776"}, )
    assert resp.status_code == 303
    page = owner.get(resp.headers["Location"], base_url=BASE).data.decode()
    assert "could not find" in page and "Your pin was not moved" in page
    assert (_tenant(bella).latitude, _tenant(bella).longitude) == (55.6794, 12.5776)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"latitude": "95", "longitude": "12"}, "latitude", "Latitude is between -90 and 90."),
    ({"latitude": "55.6"}, "longitude", "Enter both latitude and longitude, or neither."),
    ({"service_area": "radius", "service_radius_km": "0"}, "service_radius_km", "1 to 200 km"),
    ({"service_area": "radius", "service_radius_km": ""}, "service_radius_km", "1 to 200 km"),
    ({"service_area": "postcodes", "service_postcodes": ""}, "service_postcodes", "List the postcodes"),
    ({"service_area": "postcodes", "service_postcodes": "2100, <b>"}, "service_postcodes", "is not a postcode"),
    ({"languages": ["en", "xx"]}, "languages", "Choose languages from the list."),
    ({"amenities": ["spaceport"]}, "amenities", "Choose amenities from the list."),
    ({"social_instagram": "http://instagram.com/bella"}, "social_instagram", "starting with https://"),
    ({"social_instagram": "https://evil.example/bella"}, "social_instagram", "instagram.com"),
    ({"social_website": "javascript:alert(1)"}, "social_website", "starting with https://"),
    ({"category": "rocket-science"}, "category", "Choose one of the listed categories."),
])
def test_refused_values_are_shown_beside_their_field_and_nothing_is_written(app, bella, media_root, changes, field,
                                                                            message):
    owner = _owner(app, bella)
    resp = _save(owner, {**FORM, "name": "Changed", **changes})
    assert resp.status_code == 422
    html = resp.data.decode()
    assert f'id="{field}-error">' in html
    assert message in html
    tenant = _tenant(bella)
    assert (tenant.name, tenant.latitude, tenant.languages, tenant.social_links) == ("Bella", None, [], {})


def test_service_area_languages_amenities_and_links_are_saved_and_shown_back(app, bella, media_root):
    owner = _owner(app, bella)
    resp = _save(owner, {**FORM, "service_area": "postcodes", "service_postcodes": "2100, 2200\nsw1a 1aa; 2100",
                         "languages": ["en", "da"], "amenities": ["wifi", "wheelchair"],
                         "social_instagram": "https://www.instagram.com/bella.hair",
                         "social_website": " https://bella.example/ "})
    assert resp.status_code == 303
    tenant = _tenant(bella)
    assert tenant.service_postcodes == ["2100", "2200", "SW1A1AA"] and tenant.service_radius_km is None
    assert tenant.languages == ["en", "da"] and tenant.amenities == ["wheelchair", "wifi"]
    assert tenant.social_links == {"instagram": "https://www.instagram.com/bella.hair",
                                   "website": "https://bella.example/"}
    html = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert "2100, 2200, SW1A1AA" in html and 'value="https://www.instagram.com/bella.hair"' in html
    assert 'name="languages" value="da" id="languages-1" checked' in html
    assert _save(owner, {**FORM, "service_area": "radius", "service_radius_km": "15"}).status_code == 303
    tenant = _tenant(bella)
    assert (tenant.service_radius_km, tenant.service_postcodes, tenant.languages) == (15, [], [])
    with tenant_scope(bella.tenant_id):
        kinds = db.session.scalars(sa.select(OutboxEvent.kind)).all()
    assert kinds.count("business.profile_updated") == 2


def test_the_cover_photo_is_stored_without_its_location(app, bella, media_root):
    image = Image.new("RGB", (1600, 900), (20, 120, 200))
    exif = image.getexif()
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 30.0)}
    upload = io.BytesIO()
    image.save(upload, "JPEG", exif=exif)
    owner = _owner(app, bella)
    resp = _save(owner, FORM, {"cover": (io.BytesIO(upload.getvalue()), "beach.jpg")})
    assert resp.status_code == 303
    key = _tenant(bella).cover_key
    assert key.startswith(f"covers/{bella.tenant_id.hex}/") and key.endswith(".webp")
    stored = (media_root / key).read_bytes()
    with Image.open(io.BytesIO(stored)) as saved:
        assert saved.size == (1600, 900) and dict(saved.getexif()) == {}
    served = app.test_client().get(f"/media/{key}", base_url=BASE)
    assert served.status_code == 200 and served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    refused = _save(owner, FORM, {"cover": (io.BytesIO(b"%PDF-1.4 nope"), "cover.png")})
    assert refused.status_code == 422 and "not an image we can read" in refused.data.decode()
    assert _save(owner, {**FORM, "remove_cover": "y"}).status_code == 303
    assert _tenant(bella).cover_key is None
