"""Searching on a phone in Chromium: type a misspelt need, use the browser's location, see the
results as a list and on the map (URL updated for sharing), and book the next free slot in one
tap; the same page on a desk, and without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.marketplace.support import CAMDEN, COPENHAGEN, SOHO, listed, set_listing

pytestmark = pytest.mark.e2e

TILES = re.compile(r"https?://([a-z]\.)?tile\.openstreetmap\.org/.*")


@pytest.fixture
def town(ctx):
    fade = listed("fade-house", point=SOHO, services=[("Skin fade", 30, 2500)])
    camden = listed("camden-cuts", point=CAMDEN, services=[("Beard trim", 20, 1500)])
    listed("kbh-barber", point=COPENHAGEN, city="København", postcode="1050", currency="DKK",
           timezone="Europe/Copenhagen", services=[("Klip", 30, 30000)])
    listed("soho-nails", point=SOHO, category="nails", services=[("Gel manicure", 45, 3000)])
    set_listing(camden, rating_average=4.8, rating_count=200, plan_tier="featured")
    return fade, camden


def phone(browser, **kw):
    context = browser.new_context(viewport={"width": 360, "height": 780}, timezone_id="Europe/London", locale="en-GB",
                                  **kw)
    context.set_default_timeout(10_000)
    context.route(TILES, lambda route: route.abort())  # no tiles needed: the list stands alone
    return context


def test_find_a_barber_near_me_on_a_phone_and_book_in_one_tap(browser, live_server, town, screenshot_dir):
    from playwright.sync_api import expect

    context = phone(browser, permissions=["geolocation"], geolocation={"latitude": SOHO[0], "longitude": SOHO[1]})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/")
        page.fill("#teaser-q", "barbr")
        page.click(".search-teaser button")
        expect(page.locator(".result")).to_have_count(3)  # the two London barbers and the one in Copenhagen
        page.click("[data-locate]")
        expect(page.locator(".search-count")).to_contain_text("2 businesses within 25 km")
        expect(page).to_have_url(re.compile(r"/search\?.*lat=51\.5136.*lon=-0\.1365"))
        names = page.locator(".result .result-name")
        expect(names.first).to_have_text("Camden Cuts")  # the featured position comes first, labelled
        expect(page.locator(".result").first.locator(".featured-pill")).to_have_text("Featured")
        expect(page.locator(".result-distance").nth(1)).to_have_text(re.compile(r"^(\d+ m|\d+\.\d km)$"))
        expect(page.locator(".result-rating", has_text="No reviews yet")).to_have_count(1)
        expect(page.locator("#search-map .leaflet-marker-icon")).to_have_count(2)
        page.select_option("#sort", "distance")
        expect(page).to_have_url(re.compile(r"sort=distance"))
        expect(page.locator(".result .result-name")).to_have_text(["Camden Cuts", "Fade House"])
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        page.screenshot(path=str(screenshot_dir / "marketplace-search-phone.png"), full_page=True)
        shared = page.url
        page.locator(".result", has_text="Fade House").locator(".result-book").click()
        expect(page).to_have_url(re.compile(r"^http://fade-house\.localhost:\d+/book/.+/details\?"))
        expect(page.locator("h1")).to_have_text("Your details")
        page.goto(shared)  # the shared URL shows the same search
        expect(page.locator(".search-count")).to_contain_text("2 businesses within 25 km")
        expect(page.locator("#sort")).to_have_value("distance")
    finally:
        context.close()


def test_on_a_desk_the_map_stands_beside_the_list(browser, live_server, town, screenshot_dir):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.route(TILES, lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(f"{live_server}/search?category=barber&near=London")
        expect(page.locator(".result")).to_have_count(2)  # Camden Cuts (featured) and Fade House
        expect(page.locator("#search-map .leaflet-marker-icon")).to_have_count(2)
        results = page.locator(".results").bounding_box()
        map_box = page.locator("#search-map").bounding_box()
        assert map_box["x"] > results["x"] + results["width"] - 1 and map_box["height"] > 300
        page.screenshot(path=str(screenshot_dir / "marketplace-search-desk.png"))
    finally:
        context.close()


def test_the_list_works_without_javascript(browser, live_server, town):
    from playwright.sync_api import expect

    context = phone(browser, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/search")
        page.fill("#q", "manicure")
        page.fill("#near", "London")
        page.click(".search-submit button")
        expect(page.locator(".result .result-name")).to_have_text(["Soho Nails"])
        expect(page).to_have_url(re.compile(r"q=manicure"))
    finally:
        context.close()
