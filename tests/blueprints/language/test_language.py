"""Which language a page is in: the person's choice, the browser's, the business's; the switcher."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.identity.models import User
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"


def page(client, path="/", lang=None, base_url=BELLA):
    headers = {"Accept-Language": lang} if lang is not None else {}
    response = client.get(path, base_url=base_url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_browser_language_picks_danish_with_danish_money(ctx, client):
    make_business("bella", services=[("Klip", 45, 64900)])
    html = page(client, lang="da-DK,da;q=0.9,en;q=0.5")
    assert '<html lang="da-DK">' in html
    assert "Log ind" in html and "Log in<" not in html
    assert "649,00\xa0kr." in html
    english = page(client, lang="en-US,en;q=0.9")
    assert '<html lang="en-US">' in english and "Log in" in english


def test_a_language_plaza_does_not_speak_falls_back_to_the_business_default(ctx, client):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        db.session.get(Tenant, biz.tenant_id).default_locale = "da"
        db.session.commit()
    assert '<html lang="da">' in page(client, lang="fr-FR,fr;q=0.9")
    assert '<html lang="en">' in page(client, lang="fr-FR", base_url="http://localhost")


def test_the_switcher_keeps_a_guests_choice_and_returns_to_the_page(ctx, client):
    make_business("bella")
    html = page(client, "/", lang="da")
    response = client.post("/language", base_url=BELLA, headers={"Accept-Language": "da"},
                           data={"locale": "en", "next": "/?x=1", "csrf_token": csrf_from(html)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/?x=1")
    assert '<html lang="en">' in page(client, lang="da")
    away = client.post("/language", base_url=BELLA, data={"locale": "da", "next": "https://evil.example/",
                                                         "csrf_token": csrf_from(html)})
    assert away.status_code == 303 and away.headers["Location"] == "/"
    ignored = client.post("/language", base_url=BELLA, data={"locale": "xx", "csrf_token": csrf_from(html)})
    assert ignored.status_code == 303 and '<html lang="da">' in page(client, lang="en")


def test_a_signed_in_persons_choice_is_saved_and_follows_them(ctx, app, client):
    make_business("bella")
    make_user("ane@example.test")
    login_as(client, "ane@example.test", host="bella.localhost")
    html = page(client, lang="en")
    client.post("/language", base_url=BELLA, data={"locale": "da", "csrf_token": csrf_from(html)})
    with app.app_context():
        assert db.session.scalar(sa.select(User.locale).where(User.email == "ane@example.test")) == "da"
    other = app.test_client()  # another device, an English browser
    login_as(other, "ane@example.test", host="bella.localhost")
    assert '<html lang="da">' in page(other, lang="en-GB")


def test_every_page_offers_the_switcher_with_the_current_language_marked(ctx, client):
    make_business("bella")
    html = page(client, lang="da")
    assert 'action="/language"' in html
    assert 'value="da" lang="da" aria-current="true">Dansk' in html
    assert 'value="en" lang="en">English' in html
