"""The marketplace endpoints on the apex: categories and search, in the shapes of the issue,
with 422 problems naming the field, and 404 on business hosts."""

from __future__ import annotations

import pytest

from tests.marketplace.support import CAMDEN, GREENWICH, SOHO, listed, set_listing

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def barbers(ctx):
    fade = listed("fade-house", point=SOHO, services=[("Skin fade", 30, 2500)])
    camden = listed("camden-cuts", point=CAMDEN, services=[("Beard trim", 20, 1500)])
    green = listed("greenwich-barbers", point=GREENWICH, services=[("Haircut", 45, 3500)])
    set_listing(camden, rating_average=4.8, rating_count=200)
    return fade, camden, green


def test_categories_with_counts(client, barbers):
    resp = client.get("/api/v1/marketplace/categories", base_url=APEX)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    cats = resp.get_json()["categories"]
    assert cats[1] == {"slug": "barber", "name": "Barber", "count": 3}
    assert {c["slug"] for c in cats} >= {"hair", "nails", "plumbing", "pet-care"}


def test_search_shape(client, barbers):
    resp = client.get("/api/v1/marketplace/search", base_url=APEX, query_string={
        "q": "barbr", "lat": SOHO[0], "lon": SOHO[1], "radius_km": 5, "sort": "distance"})
    assert resp.status_code == 200
    data = resp.get_json()
    assert (data["total"], data["page"], data["per_page"]) == (2, 1, 20)
    first, second = data["results"]
    assert first["slug"] == "fade-house" and first["distance_km"] == 0
    assert first["rating"] == {"average": None, "count": 0}  # no reviews yet, not 0
    assert first["price_from"] == {"amount": 2500, "currency": "GBP"}
    assert first["url"].startswith("http://fade-house.localhost") and first["url"].endswith("/")
    assert first["featured"] is False and first["category"] == "barber"
    assert first["location"] == {"lat": SOHO[0], "lon": SOHO[1], "city": "London"}
    assert first["next_available"].endswith("Z") or first["next_available"].endswith("+00:00")
    assert second["slug"] == "camden-cuts" and second["rating"] == {"average": 4.8, "count": 200}
    assert 2.5 < second["distance_km"] < 3.5


def test_featured_positions_come_first_and_are_labelled(client, barbers):
    set_listing(barbers[2], plan_tier="top")
    data = client.get("/api/v1/marketplace/search", base_url=APEX,
                      query_string={"category": "barber", "lat": SOHO[0], "lon": SOHO[1]}).get_json()
    assert data["results"][0]["slug"] == "greenwich-barbers" and data["results"][0]["featured"] is True
    assert [r["featured"] for r in data["results"][1:]] == [False] * 2  # not repeated on the page
    assert data["total"] == 3


@pytest.mark.parametrize(("args", "field"), [
    ({"lat": "100", "lon": "0"}, "lat"), ({"lat": "51"}, "lon"), ({"radius_km": "201"}, "radius_km"),
    ({"per_page": "51"}, "per_page"), ({"sort": "popular"}, "sort"), ({"available": "someday"}, "available"),
    ({"min_rating": "0"}, "min_rating"), ({"category": "astrology"}, "category"),
])
def test_bad_values_are_422_problems_naming_the_field(client, ctx, args, field):
    resp = client.get("/api/v1/marketplace/search", base_url=APEX, query_string=args)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["errors"][0]["field"] == field and field in body["detail"]


def test_near_that_cannot_be_resolved_says_so(client, barbers):
    resp = client.get("/api/v1/marketplace/search", base_url=APEX, query_string={"near": "Qwxzy Vrrk"})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "Cannot resolve" in resp.get_json()["detail"] and resp.get_json()["errors"][0]["field"] == "near"
    ok = client.get("/api/v1/marketplace/search", base_url=APEX, query_string={"near": "london"})
    assert ok.status_code == 200 and ok.get_json()["total"] == 3


def test_not_on_a_business_host(client, barbers):
    for path in ("/api/v1/marketplace/search", "/api/v1/marketplace/categories"):
        resp = client.get(path, base_url="http://fade-house.localhost")
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_the_openapi_document_declares_both_on_the_apex(client, barbers):
    spec = client.get("/api/v1/openapi.json", base_url="http://fade-house.localhost").get_json()
    search = spec["paths"]["/marketplace/search"]["get"]
    assert search["servers"][0]["url"].startswith("http://localhost")
    assert {p["name"] for p in search["parameters"]} >= {"q", "category", "lat", "lon", "near", "radius_km",
                                                        "available", "min_rating", "sort", "page", "per_page"}
    assert "SearchOut" in spec["components"]["schemas"] and "CategoryList" in spec["components"]["schemas"]
    assert spec["paths"]["/marketplace/categories"]["get"]["responses"]["200"]
