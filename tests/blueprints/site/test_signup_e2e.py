"""Signup in Chromium: the time zone list preselects the browser's zone (old names such as
Asia/Calcutta included) and the currency follows that zone's country, else the browser
language's region, until the person picks one."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def open_signup(browser, live_server):
    """Open the apex signup page in a fresh context with the given zone and locale."""
    contexts = []

    def make(timezone_id: str, locale: str):
        context = browser.new_context(timezone_id=timezone_id, locale=locale, viewport={"width": 360, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server}/signup")
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("timezone_id", "locale", "zone", "currency"), [
    ("Europe/London", "en-GB", "Europe/London", "GBP"),
    ("Europe/London", "en-US", "Europe/London", "GBP"),  # the place beats the language
    ("Europe/Copenhagen", "da-DK", "Europe/Copenhagen", "DKK"),
    ("Asia/Calcutta", "en-IN", "Asia/Kolkata", "INR"),
    ("UTC", "sv-SE", "UTC", "SEK"),  # no place: the language's region
])
def test_browser_zone_and_currency_are_preselected(ctx, open_signup, timezone_id, locale, zone, currency):
    from playwright.sync_api import expect

    page = open_signup(timezone_id, locale)
    expect(page.locator("#timezone")).to_have_value(zone)
    expect(page.locator("#currency")).to_have_value(currency)
    # The form fits a 360 px phone without sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_currency_follows_the_zone_until_the_person_picks_one(ctx, open_signup):
    from playwright.sync_api import expect

    page = open_signup("Europe/London", "en-GB")
    page.select_option("#timezone", "Europe/Copenhagen")
    expect(page.locator("#currency")).to_have_value("DKK")
    page.select_option("#currency", "EUR")
    page.select_option("#timezone", "America/New_York")
    expect(page.locator("#currency")).to_have_value("EUR")
