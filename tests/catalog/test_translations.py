"""A business's services (and its description) in more than one language: entered on the
dashboard, shown to each customer in their language where the business wrote it, else in the
business's default language; the API lists names the same way; a Danish signup speaks Danish."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import Babel, force_locale

from app.catalog.models import Service
from app.catalog.translations import localized, other_languages, read_translation_fields, set_translations
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
DANISH = "da-DK,da;q=0.9"
ENGLISH = "en-GB,en;q=0.8"


@pytest.fixture
def bella(ctx):
    """Bella with "Haircut" (also "Dameklip" in Danish) and "Beard trim" (English only)."""
    biz = make_business("bella", services=[("Haircut", 60, 64900), ("Beard trim", 30, 25000)])
    with tenant_scope(biz.tenant_id):
        haircut = db.session.scalar(sa.select(Service).where(Service.id == biz.service_ids[0]))
        haircut.description = "Wash, cut and blow-dry."
        set_translations(haircut, {"da": {"name": "Dameklip", "description": "Vask, klip og føn."}})
        tenant = db.session.get(Tenant, biz.tenant_id)
        tenant.description = "A friendly salon."
        tenant.translations = {"da": {"description": "En hyggelig salon."}}
        db.session.commit()
    return biz


def page(client, path: str, language: str) -> str:
    response = client.get(path, base_url=BELLA, headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def main(html: str) -> str:
    """The page's main content (the head's metadata is not the storefront's text)."""
    return html[html.index("<main"):html.index("</main>")]


def test_localized_falls_back_to_the_default_text_where_no_translation_exists():
    app = Flask("t")
    Babel(app)
    service = SimpleNamespace(name="Haircut", description="", translations={"da": {"name": "Dameklip",
                                                                                 "description": "  "}})
    with app.app_context():
        with force_locale("da_DK"):
            assert localized(service, "name") == "Dameklip"
            assert localized(service, "description") == ""  # blank Danish: the (empty) default
        with force_locale("en_GB"):
            assert localized(service, "name") == "Haircut"
    assert localized(service, "name", "da") == "Dameklip"
    assert localized(SimpleNamespace(name="Cut", translations=None), "name", "da") == "Cut"
    assert other_languages("da") == ["en"] and other_languages("en_GB") == ["da"]


def test_set_translations_keeps_only_known_languages_fields_and_text():
    obj = SimpleNamespace(translations={})
    assert set_translations(obj, {"da": {"name": " Dameklip ", "description": "", "price": "1"}}) == {
        "da": {"name": "Dameklip"}}
    with pytest.raises(ValueError):
        set_translations(obj, {"fr": {"name": "Coupe"}})
    texts, errors = read_translation_fields({"name_da": "x" * 121, "description_da": "ok"}, ["da"])
    assert texts == {"da": {"name": "x" * 121, "description": "ok"}} and set(errors) == {"name_da"}


def test_a_danish_reader_sees_the_danish_names_an_english_reader_the_english(client, bella):
    danish = main(page(client, "/", DANISH))
    assert "Dameklip" in danish and "Vask, klip og føn." in danish and "En hyggelig salon." in danish
    assert "Beard trim" in danish  # no Danish name: the business's default
    assert "Haircut" not in danish and "A friendly salon." not in danish
    english = main(page(client, "/", ENGLISH))
    assert "Haircut" in english and "Wash, cut and blow-dry." in english and "A friendly salon." in english
    assert "Dameklip" not in english and "En hyggelig salon." not in english
    slots = page(client, f"/book/{bella.service_ids[0]}?tz=Europe/Copenhagen", DANISH)
    assert "Dameklip" in slots


def test_the_api_lists_service_names_in_the_asked_language(client, bella):
    def names(**kw):
        response = client.get("/api/v1/services", base_url=BELLA, **kw)
        assert response.status_code == 200
        return sorted(s["name"] for s in response.get_json()["services"])

    assert names() == ["Beard trim", "Haircut"]
    assert names(query_string={"lang": "da"}) == ["Beard trim", "Dameklip"]
    assert names(headers={"Accept-Language": DANISH}) == ["Beard trim", "Dameklip"]
    assert names(query_string={"lang": "en"}, headers={"Accept-Language": DANISH}) == ["Beard trim", "Haircut"]


def owner_client(app, bella):
    client = app.test_client()
    login_as(client, bella.owner_email, host="bella.localhost")
    return client


def test_the_service_form_takes_the_danish_name_and_description(app, bella):
    owner = owner_client(app, bella)
    url = f"/dashboard/services/{bella.service_ids[1]}"
    form = owner.get(url, base_url=BELLA)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and 'name="name_da"' in html and "Name (Dansk)" in html
    data = {"csrf_token": csrf_from(form.data), "name": "Beard trim", "description": "", "duration_minutes": "30",
            "price": "250", "buffer_before_minutes": "0", "buffer_after_minutes": "0", "active": "y",
            "staff": [str(bella.staff_ids[0])], "name_da": "Skægtrimning", "description_da": "Trim og form."}
    assert owner.post(url, base_url=BELLA, data=data).status_code == 303
    with tenant_scope(bella.tenant_id):
        service = db.session.scalar(sa.select(Service).where(Service.id == bella.service_ids[1]))
        assert service.translations == {"da": {"name": "Skægtrimning", "description": "Trim og form."}}
    assert 'value="Skægtrimning"' in owner.get(url, base_url=BELLA).get_data(as_text=True)
    assert "Skægtrimning" in page(app.test_client(), "/", DANISH)

    too_long = {**data, "name_da": "x" * 121}
    refused = owner.post(url, base_url=BELLA, data=too_long)
    assert refused.status_code == 422 and "Use at most 120 characters." in refused.get_data(as_text=True)
    with tenant_scope(bella.tenant_id):
        db.session.expire_all()
        service = db.session.scalar(sa.select(Service).where(Service.id == bella.service_ids[1]))
        assert service.translations["da"]["name"] == "Skægtrimning"  # nothing written


def test_business_settings_set_the_default_language(app, bella):
    owner = owner_client(app, bella)
    html = owner.get("/dashboard/business", base_url=BELLA).get_data(as_text=True)
    assert 'name="default_locale"' in html and 'name="description_da"' in html
    with tenant_scope(bella.tenant_id):
        assert db.session.get(Tenant, bella.tenant_id).default_locale == "en"
    # A visitor whose language Plaza does not speak reads the business's default.
    assert "Haircut" in page(app.test_client(), "/", "fr-FR")
    with platform_scope("test: Bella switches to Danish"):
        db.session.get(Tenant, bella.tenant_id).default_locale = "da"
        db.session.commit()
    assert "Dameklip" in page(app.test_client(), "/", "fr-FR")


def test_a_new_business_in_denmark_speaks_danish_by_default(app):
    base = {"business_name": "Nordic Nails", "timezone": "Europe/Copenhagen", "currency": "DKK", "category": "nails",
            "owner_name": "Nina Nielsen", "password": "a-long-password"}
    for slug, zone, email in (("nordic-nails", "Europe/Copenhagen", "nina@example.com"),
                              ("london-nails", "Europe/London", "lena@example.com")):
        client = app.test_client()
        signup = client.get("/signup", base_url="http://localhost")
        response = client.post("/signup", base_url="http://localhost", data={
            **base, "slug": slug, "timezone": zone, "email": email, "csrf_token": csrf_from(signup.data)})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:800]
    with app.app_context(), platform_scope("test: read the new businesses"):
        found = dict(db.session.execute(sa.select(Tenant.slug, Tenant.default_locale)).all())
    assert found == {"nordic-nails": "da", "london-nails": "en"}
