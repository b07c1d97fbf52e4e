"""Marketplace category names in the reader's language: the shipped taxonomy's English names read
in Danish for a Danish reader on the search page (filter and results), the storefront and the
API (``?lang=`` else ``Accept-Language``); a category an admin renamed keeps the admin's name."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.tenants.taxonomy import rename_category
from app.uow import unit_of_work
from tests.marketplace.support import index, listed

pytestmark = pytest.mark.integration

APEX = "http://localhost"
DANISH = {"Accept-Language": "da-DK,da;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}


@pytest.fixture
def bella(ctx):
    """A listed hair salon; its profile line names the category too."""
    biz = listed("bella", category="hair", name="Bella Hair")
    with platform_scope("test: the profile's category line"):
        db.session.get(Tenant, biz.tenant_id).category = "Hair salon"
        db.session.commit()
    index(biz)
    return biz


def test_a_danish_reader_sees_danish_category_names_on_search_and_the_storefront(client, bella):
    danish = client.get("/search", base_url=APEX, headers=DANISH, query_string={"q": "bella"}).get_data(as_text=True)
    assert '<option value="hair">Frisørsalon (1)</option>' in danish and ">VVS<" in danish
    assert "Frisørsalon · London" in danish  # the result's line
    english = client.get("/search", base_url=APEX, headers=ENGLISH, query_string={"q": "bella"}).get_data(as_text=True)
    assert '<option value="hair">Hair salon (1)</option>' in english and "Hair salon · London" in english
    assert "Frisørsalon" not in english

    store = client.get("/", base_url="http://bella.localhost", headers=DANISH).get_data(as_text=True)
    assert "Frisørsalon" in store and "Hair salon" not in store


def test_the_api_names_categories_in_the_asked_language(client, bella):
    def names(**kwargs) -> dict[str, str]:
        body = client.get("/api/v1/marketplace/categories", base_url=APEX, **kwargs).get_json()
        return {c["slug"]: c["name"] for c in body["categories"]}

    assert names(headers=DANISH)["hair"] == "Frisørsalon"
    assert names(query_string={"lang": "da"}, headers=ENGLISH)["plumbing"] == "VVS"
    assert names(headers=ENGLISH)["hair"] == "Hair salon"
    assert names(query_string={"lang": "en"}, headers=DANISH)["pet-care"] == "Pet care"


def test_a_category_an_admin_renamed_keeps_the_admins_name_in_every_language(client, bella, restore_taxonomy):
    with unit_of_work(), platform_scope("test: an admin renames"):
        rename_category("hair", "Hair & beauty studio")
    index(bella)
    danish = client.get("/search", base_url=APEX, headers=DANISH).get_data(as_text=True)
    assert "Hair &amp; beauty studio (1)" in danish and "Frisørsalon" not in danish
    api = client.get("/api/v1/marketplace/categories", base_url=APEX, headers=DANISH).get_json()
    assert {c["slug"]: c["name"] for c in api["categories"]}["hair"] == "Hair & beauty studio"
