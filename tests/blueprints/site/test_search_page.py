"""The apex search page: the form, results with distance, rating, price and a one-tap booking
link, the HTMX block, inline 422s, and the landing's way in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.marketplace.support import CAMDEN, SOHO, listed, set_listing

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def barbers(ctx):
    fade = listed("fade-house", point=SOHO, services=[("Skin fade", 30, 2500)])
    camden = listed("camden-cuts", point=CAMDEN, services=[("Beard trim", 20, 1500)])
    set_listing(camden, rating_average=4.8, rating_count=200, plan_tier="featured")
    return fade, camden


def test_the_landing_leads_to_search(client, ctx):
    html = client.get("/", base_url=APEX).data.decode()
    assert 'action="/search"' in html and 'name="near"' in html


def test_results_show_what_a_customer_compares(client, barbers):
    resp = client.get("/search", base_url=APEX, query_string={"q": "barbr", "near": "London", "sort": "distance"})
    assert resp.status_code == 200
    html = resp.data.decode()
    assert "2 businesses within 25 km" in html
    assert "No reviews yet" in html and "★</span> 4.8" in html and "(200 reviews)" in html
    assert "from £25.00" in html and "from £15.00" in html
    assert html.count("Featured</span>") == 1  # Camden Cuts, on a paying plan, matches
    book = re.search(r'class="button small result-book" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    url = urlsplit(book)
    assert url.netloc.startswith("fade-house.localhost") or url.netloc.startswith("camden-cuts.localhost")
    assert re.fullmatch(r"/book/[0-9a-f-]{36}/details", url.path)
    assert parse_qs(url.query)["staff"] == ["any"] and parse_qs(url.query)["start"][0].endswith("+00:00")
    assert 'id="search-map"' in html and "data-points=" in html and "&#34;lat&#34;" in html
    # each result can be saved as a favourite (signed out: the heart leads to the login)
    assert html.count('data-favourite="') == 2 and "Log in to save this business" in html


def test_htmx_gets_the_results_block_only(client, barbers):
    resp = client.get("/search", base_url=APEX, query_string={"category": "barber"}, headers={"HX-Request": "true"})
    html = resp.data.decode()
    assert resp.status_code == 200 and html.lstrip().startswith('<section id="search-results"')
    assert "<form" not in html and "Fade House" in html and "HX-Request" in resp.headers["Vary"]


def test_bad_values_answer_422_beside_the_field(client, barbers):
    resp = client.get("/search", base_url=APEX, query_string={"near": "Qwxzy Vrrk"})
    assert resp.status_code == 422
    html = resp.data.decode()
    assert 'id="near-error"' in html and "Cannot resolve the place" in html
    resp = client.get("/search", base_url=APEX, query_string={"max_price": "cheap"})
    assert resp.status_code == 422 and 'id="max_price-error"' in resp.data.decode()
    resp = client.get("/search", base_url=APEX, query_string={"radius_km": "900"}, headers={"HX-Request": "true"})
    assert resp.status_code == 422 and "The radius is a number of km" in resp.data.decode()


def test_price_filter_in_whole_amounts(client, barbers):
    html = client.get("/search", base_url=APEX, query_string={"max_price": "20"}).data.decode()
    assert "Camden Cuts" in html and "Fade House" not in html


def test_not_on_a_business_host(client, barbers):
    assert client.get("/search", base_url="http://fade-house.localhost").status_code == 404
