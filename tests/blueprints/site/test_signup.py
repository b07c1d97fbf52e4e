"""Business signup at the apex: the business, its owner and the landing on its dashboard."""

from __future__ import annotations

import re
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.identity.models import User
from app.tenants.context import tenant_scope
from app.tenants.models import Membership, Tenant
from tests.factories import PASSWORD, make_business, make_user
from tests.helpers import csrf_from

pytestmark = pytest.mark.integration


@contextmanager
def app_ctx(app):
    """An app context for setting up or checking data (never held during requests)."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.rollback()
            db.session.remove()


GOOD = {
    "business_name": "Nordic Nails", "slug": "nordic-nails", "timezone": "Europe/Copenhagen", "currency": "DKK",
    "category": "nails", "owner_name": "Nina Nielsen", "email": "nina@example.com",
    "password": "a-long-password",
}


def post_signup(client, base_url: str = "http://localhost", **changes):
    page = client.get("/signup", base_url=base_url)
    assert page.status_code == 200
    return client.post("/signup", data={**GOOD, **changes, "csrf_token": csrf_from(page.data)}, base_url=base_url)


def counts(app) -> tuple[int, int, int]:
    with app_ctx(app):
        tenants = db.session.scalar(sa.select(sa.func.count()).select_from(Tenant))
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        from app.tenants.context import platform_scope

        with platform_scope("test: count memberships"):
            members = db.session.scalar(sa.select(sa.func.count()).select_from(Membership))
        return tenants, users, members


def test_signup_form_offers_time_zones_and_currencies(app, client):
    page = client.get("/signup")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'data-zone-select' in html and 'data-currency-select' in html
    assert re.search(r'<option data-currency="USD" value="America/New_York">New York \(United States\)</option>',
                     html)
    assert '<option value="DKK">' in html
    assert "Your page:" in html
    assert "<script>" not in html and "style=" not in html


def test_signup_offers_real_places_grouped_by_region_not_aliases(app, client):
    html = client.get("/signup").data.decode()
    zone_select = html[html.index('<select'):html.index('</select>')]
    values = re.findall(r'value="([^"]+)"', zone_select)
    # Real places (about 420), not the ~600 names of zoneinfo with its aliases and oddities.
    assert 380 < len(values) < 480
    for alias in ("Factory", "W-SU", "Etc/GMT+5", "US/Eastern", "GB", "Europe/Kiev", "posixrules"):
        assert alias not in values
    assert {"Europe/London", "Europe/Copenhagen", "Europe/Kyiv", "Asia/Kolkata", "UTC"} <= set(values)
    assert '<optgroup label="Europe">' in zone_select and '<optgroup label="America">' in zone_select


@pytest.mark.parametrize(("language", "currency"), [("en-GB,en;q=0.8", "GBP"), ("da-DK", "DKK"),
                                                    ("en-US", "USD"), ("fr", "EUR")])
def test_signup_currency_defaults_from_the_browser_language_region(app, client, language, currency):
    html = client.get("/signup", headers={"Accept-Language": language}).data.decode()
    currencies = html[html.index('name="currency"'):]
    assert f'<option selected value="{currency}">' in currencies[:currencies.index('</select>')]


def test_signup_refuses_zones_that_are_no_place(app, client):
    for name in ("Factory", "W-SU", "Etc/GMT+5"):
        resp = post_signup(client, timezone=name)
        assert resp.status_code == 422
        assert "Choose a time zone from the list." in resp.data.decode()


def test_signup_sets_the_country_from_the_time_zone(app, client):
    resp = post_signup(client, timezone="Europe/London", currency="GBP")
    assert resp.status_code == 302
    with app_ctx(app):
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "nordic-nails"))
        assert (tenant.timezone, tenant.currency, tenant.country) == ("Europe/London", "GBP", "GB")


def test_signup_creates_business_and_owner_and_lands_on_its_dashboard(app, client):
    resp = post_signup(client)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "http", f"nordic-nails.localhost:{app.config['PUBLIC_PORT']}", "/auth/handoff")
    query = parse_qs(location.query)
    assert query["next"] == ["/dashboard/"]

    with app_ctx(app):
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "nordic-nails"))
        assert tenant is not None
        assert (tenant.name, tenant.timezone, tenant.currency, tenant.category_slug, tenant.category) == (
            "Nordic Nails", "Europe/Copenhagen", "DKK", "nails", "Nails")
        owner = db.session.scalar(sa.select(User).where(User.email == "nina@example.com"))
        assert owner is not None and owner.name == "Nina Nielsen"
        with tenant_scope(tenant.id):
            roles = db.session.scalars(sa.select(Membership.role).where(Membership.user_id == owner.id)).all()
        assert roles == ["owner"]
        owner_id = owner.id

    # The handoff logs the owner in on the new business's host and goes to the dashboard.
    landed = client.get(resp.headers["Location"])
    assert landed.status_code == 302
    assert landed.headers["Location"] == "/dashboard/"
    with client.session_transaction(base_url="http://nordic-nails.localhost") as sess:
        assert sess.get("_user_id", "").startswith(str(owner_id))
    again = client.get("/login", base_url="http://nordic-nails.localhost")
    assert again.status_code == 302 and again.headers["Location"] == "/dashboard/"
    # The apex session is separate.
    with client.session_transaction(base_url="http://localhost") as sess:
        assert "_user_id" not in sess


def test_signup_redirect_takes_scheme_and_port_from_configuration_not_the_request(app, client):
    page = client.get("/signup", base_url="https://localhost")
    resp = client.post("/signup", data={**GOOD, "csrf_token": csrf_from(page.data)}, base_url="https://localhost",
                       headers={"Referer": "https://localhost/signup"})  # Flask-WTF checks it over https
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert (location.scheme, location.netloc) == ("http", f"nordic-nails.localhost:{app.config['PUBLIC_PORT']}")


def test_signup_under_a_foreign_port_is_refused(app, client):
    assert client.get("/signup", base_url="http://localhost:5123").status_code == 404


def test_signup_with_existing_account_needs_its_password(app, client):
    with app_ctx(app):
        make_user("nina@example.com")
    resp = post_signup(client, password="wrong-password-1")
    assert resp.status_code == 422
    assert b"If you have a Plaza account with this email, enter its password" in resp.data
    assert b"already has" not in resp.data and b"already exists" not in resp.data  # nothing about the account
    assert counts(app) == (0, 1, 0)
    resp = post_signup(client, password=PASSWORD)
    assert resp.status_code == 302
    assert counts(app) == (1, 1, 1)


@pytest.mark.parametrize(("changes", "message"), [
    ({"slug": "ab"}, "Use 3 to 40 characters."),
    ({"slug": "a" * 41}, "Use 3 to 40 characters."),
    ({"slug": "Nordic"}, "Use lowercase letters, digits and hyphens"),
    ({"slug": "nordic_nails"}, "Use lowercase letters, digits and hyphens"),
    ({"slug": "-nordic"}, "Use lowercase letters, digits and hyphens"),
    ({"slug": "admin"}, "is reserved"),
    ({"slug": "bella"}, "is already taken"),
    ({"slug": ""}, "Choose the address of your page."),
    ({"timezone": "Mars/Olympus"}, "Choose a time zone from the list."),
    ({"currency": "XYZ"}, "Choose one of the listed currencies."),
    ({"currency": "dkk"}, "Choose one of the listed currencies."),
    ({"email": "nina-at-example.com"}, "Enter a valid email address"),
    ({"password": "short"}, "Use at least 10 characters."),
    ({"business_name": ""}, "Enter the name of your business."),
    ({"business_name": "x" * 121}, "Field cannot be longer than 120 characters."),
    ({"category": "Rocket science"}, "Choose one of the listed categories."),
])
def test_signup_bad_input_answers_422_and_writes_nothing(app, client, changes, message):
    with app_ctx(app):
        make_business("bella")
    before = counts(app)
    resp = post_signup(client, **changes)
    assert resp.status_code == 422
    html = resp.data.decode()
    field = next(iter(changes))
    # The error sits beside its field, and the other values are kept.
    assert message in html
    assert f'id="{field}-error"' in html
    assert 'value="Nina Nielsen"' in html or field == "owner_name"
    assert counts(app) == before
    with app_ctx(app):
        assert db.session.scalar(sa.select(User).where(User.email == "nina@example.com")) is None


def test_signup_is_apex_only(app, client):
    with app_ctx(app):
        make_business("bella")
    assert client.get("/signup", base_url="http://bella.localhost").status_code == 404


def test_signup_is_rate_limited(app, client):
    page = client.get("/signup")
    token = csrf_from(page.data)
    for i in range(15):
        resp = client.post("/signup", data={**GOOD, "slug": "ab", "email": f"n{i}@example.com", "csrf_token": token})
        assert resp.status_code == 422
    resp = client.post("/signup", data={**GOOD, "csrf_token": token})
    assert resp.status_code == 429
    assert counts(app) == (0, 0, 0)


def test_landing_lists_businesses_with_links(app, client):
    with app_ctx(app):
        make_business("bella")
        make_business("fixit")
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.data.decode()
    port = app.config["PUBLIC_PORT"]
    assert f'href="http://bella.localhost:{port}/"' in html
    assert f'href="http://fixit.localhost:{port}/"' in html
    assert "List your business" in html
    assert "How it works" in html


def test_landing_shows_each_business_city_and_logo(app, client):
    with app_ctx(app):
        biz = make_business("bella")
        with tenant_scope(biz.tenant_id):
            tenant = db.session.get(Tenant, biz.tenant_id)
            tenant.city, tenant.logo_key = "København", f"logos/{biz.tenant_id.hex}/0123456789abcdef.webp"
            db.session.commit()
    html = client.get("/").data.decode()
    assert "København" in html
    assert f'src="/media/logos/{biz.tenant_id.hex}/0123456789abcdef.webp"' in html
