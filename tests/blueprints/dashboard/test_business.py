"""The business settings page (``/dashboard/business``): who may see and change it, what a
change writes and where it shows (booking page, sidebar), the logo upload checked by content,
and refused input answered 422 with nothing written."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.catalog.models import Service
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"

FORM = {"name": "Bella Hair Studio", "category": "hair", "timezone": "Europe/Copenhagen",
        "currency": "DKK", "phone": "33 12 12 12", "public_email": "Hello@Bella.example",
        "address_line": "Nørregade 12", "postcode": "1165", "city": "København", "country": "DK",
        "description": "Cuts and colour\nsince 2009."}


@pytest.fixture
def bella(ctx):
    return make_business("bella")


def _client(app, email: str | None = None):
    client = app.test_client()
    if email:
        login_as(client, email, host=HOST)
    return client


def _save(client, data: dict, files: dict | None = None):
    token = csrf_from(client.get("/dashboard/", base_url=BASE).data)
    payload = {"csrf_token": token, **data, **(files or {})}
    return client.post("/dashboard/business", base_url=BASE, data=payload, content_type="multipart/form-data")


def _tenant(bella) -> Tenant:
    db.session.expire_all()
    with tenant_scope(bella.tenant_id):
        return db.session.get(Tenant, bella.tenant_id)


def _member(bella, email: str, role: Role) -> None:
    make_user(email)
    from app.identity.service import find_user

    with tenant_scope(bella.tenant_id):
        add_membership(find_user(email), role)
        db.session.commit()


def _jpeg_with_gps(size=(1200, 800)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 90))
    exif = image.getexif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 30.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_owner_sees_the_settings_with_the_curated_zones(app, bella):
    page = _client(app, bella.owner_email).get("/dashboard/business", base_url=BASE)
    assert page.status_code == 200
    html = page.data.decode()
    assert 'value="Bella"' in html
    assert '<optgroup label="Europe">' in html and 'value="Factory"' not in html and 'value="W-SU"' not in html
    assert re.search(r'<option data-currency="DKK" selected value="Europe/Copenhagen">', html)
    assert "Save settings" in html and "business-read-only" not in html
    # The Business link is in the sidebar.
    assert 'href="/dashboard/business"' in html


def test_manager_reads_but_cannot_change_staff_get_403_outsiders_404(app, bella):
    _member(bella, "manager@bella.test", Role.MANAGER)
    _member(bella, "staff@bella.test", Role.STAFF)
    make_user("stranger@example.com")
    manager = _client(app, "manager@bella.test")
    page = manager.get("/dashboard/business", base_url=BASE)
    assert page.status_code == 200
    html = page.data.decode()
    assert "Only the business's owner can change these settings." in html
    assert "<fieldset class=\"db-fieldset\" disabled>" in html and "Save settings" not in html
    assert _save(manager, {**FORM, "name": "Hijacked"}).status_code == 403
    assert _tenant(bella).name == "Bella"
    assert _client(app, "staff@bella.test").get("/dashboard/business", base_url=BASE).status_code == 403
    assert _client(app, "stranger@example.com").get("/dashboard/business", base_url=BASE).status_code == 404


def test_owner_changes_take_effect_on_the_booking_page(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    resp = _save(owner, FORM)
    assert resp.status_code == 303
    tenant = _tenant(bella)
    assert (tenant.name, tenant.category_slug, tenant.category, tenant.phone, tenant.public_email, tenant.country) == (
        "Bella Hair Studio", "hair", "Hair salon", "+4533121212", "Hello@bella.example", "DK")
    assert tenant.address == "Nørregade 12, 1165 København, Denmark"
    assert tenant.location == "Bella Hair Studio, Nørregade 12, 1165 København, Denmark"
    assert tenant.description == "Cuts and colour\nsince 2009."
    # Shown back in national format.
    page = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert 'value="33 12 12 12"' in page
    home = _client(app).get("/", base_url=BASE).data.decode()
    assert "Bella Hair Studio" in home and "Nørregade 12, 1165 København, Denmark" in home
    assert 'href="tel:+4533121212"' in home and "33 12 12 12" in home
    assert "Cuts and colour\nsince 2009." in home


def test_without_a_country_the_zone_gives_it_and_phones_are_read_there(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    resp = _save(owner, {**FORM, "timezone": "Europe/London", "country": "", "phone": "07400 123456"})
    assert resp.status_code == 303
    tenant = _tenant(bella)
    assert (tenant.country, tenant.phone) == ("GB", "+447400123456")


def test_time_zone_change_keeps_bookings_instants_and_says_so(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    resp = _save(owner, {**FORM, "timezone": "Europe/London"})
    assert resp.status_code == 303
    assert _tenant(bella).timezone == "Europe/London"
    flashed = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert "existing bookings keep their moment in time" in flashed


def test_currency_change_moves_service_prices_with_the_same_amounts(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    assert _save(owner, {**FORM, "currency": "GBP"}).status_code == 303
    assert _tenant(bella).currency == "GBP"
    with tenant_scope(bella.tenant_id):
        service = db.session.scalar(sa.select(Service))
        assert (service.currency, service.price_amount) == ("GBP", 50000)
    assert _save(owner, {**FORM, "currency": "ISK"}).status_code == 303
    with tenant_scope(bella.tenant_id):
        db.session.expire_all()
        service = db.session.scalar(sa.select(Service))
        assert (service.currency, service.price_amount) == ("ISK", 500)  # ISK has no minor unit


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"phone": "12"}, "phone", "not a valid phone number"),
    ({"phone": "call me"}, "phone", "Enter a phone number"),
    ({"timezone": "Factory"}, "timezone", "Choose a time zone from the list."),
    ({"timezone": "W-SU"}, "timezone", "Choose a time zone from the list."),
    ({"currency": "XYZ"}, "currency", "Choose one of the listed currencies."),
    ({"public_email": "not-an-email"}, "public_email", "Enter an email address"),
    ({"country": "XX"}, "country", "Choose a country from the list."),
    ({"description": "x" * 1001}, "description", "Use at most 1000 characters."),
    ({"name": ""}, "name", "Enter the name of your business."),
])
def test_refused_input_answers_422_beside_the_field_and_writes_nothing(app, bella, media_root, changes, field,
                                                                       message):
    owner = _client(app, bella.owner_email)
    resp = _save(owner, {**FORM, **changes})
    assert resp.status_code == 422
    html = resp.data.decode()
    assert message in html
    assert f'id="{field}-error"' in html
    tenant = _tenant(bella)
    assert (tenant.name, tenant.phone, tenant.timezone, tenant.currency) == ("Bella", "", "Europe/Copenhagen", "DKK")


def test_logo_is_reencoded_without_metadata_and_served_from_a_content_hashed_url(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    resp = _save(owner, FORM, {"logo": (io.BytesIO(_jpeg_with_gps()), "me.jpg")})
    assert resp.status_code == 303
    key = _tenant(bella).logo_key
    assert re.fullmatch(rf"logos/{bella.tenant_id.hex}/[0-9a-f]{{16}}\.webp", key)
    stored = (media_root / key).read_bytes()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "WEBP" and max(image.size) == 512
    assert not image.getexif() and b"SpyCam" not in stored
    served = _client(app).get(f"/media/{key}", base_url=BASE)
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert "immutable" in served.headers["Cache-Control"] and "max-age=31536000" in served.headers["Cache-Control"]
    assert served.data == stored
    # The sidebar and the booking page show it.
    assert f'src="/media/{key}"' in owner.get("/dashboard/", base_url=BASE).data.decode()
    assert f'src="/media/{key}"' in _client(app).get("/", base_url=BASE).data.decode()
    # Removing it.
    assert _save(owner, {**FORM, "remove_logo": "y"}).status_code == 303
    assert _tenant(bella).logo_key is None


@pytest.mark.parametrize(("payload", "message"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not an image we can read"),
    (b"%PDF-1.7 not a picture", "not an image we can read"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image we can read"),
])
def test_files_that_are_not_images_are_refused_whatever_their_name(app, bella, media_root, payload, message):
    owner = _client(app, bella.owner_email)
    resp = _save(owner, FORM, {"logo": (io.BytesIO(payload), "logo.png", "image/png")})
    assert resp.status_code == 422
    html = resp.data.decode()
    assert message in html and 'id="logo-error"' in html
    assert _tenant(bella).logo_key is None and _tenant(bella).name == "Bella"
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_an_image_over_the_pixel_limit_is_refused(app, bella, media_root):
    out = io.BytesIO()
    Image.new("1", (6000, 5000)).save(out, "PNG")  # 30 megapixels, a few kilobytes
    resp = _save(_client(app, bella.owner_email), FORM, {"logo": (io.BytesIO(out.getvalue()), "big.png")})
    assert resp.status_code == 422
    assert "too many pixels" in resp.data.decode()


def test_media_serves_only_public_stored_files(app, bella, media_root):
    client = _client(app)
    for path in ("/media/logos/none/abc.webp", "/media/../etc/passwd", "/media/private/x.webp",
                 "/media/logos/x/y.svg"):
        assert client.get(path, base_url=BASE).status_code == 404
