"""Issue 14's walk in Chromium at 390x844: a customer whose browser reads Danish books at bella in
Danish, with Danish money, weekdays and the 24-hour clock, and gets the confirmation email in
Danish; an English-speaking customer of the same business books the same way in English."""

from __future__ import annotations

import re

import pytest

from tests.blueprints.storefront.test_booking_e2e import seed_salon, tenant_url
from tests.support.conftest_mail import text_of
from tests.support.notification_support import deliver_all

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DANISH_DAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _book(page, base: str, name: str, email: str, *, book: str, pick: str, confirm: str) -> str:
    """Book the first service with anyone at the first free time; returns the chosen time's label.
    ``book``/``pick``/``confirm`` are the page headings in the reader's language."""
    from playwright.sync_api import expect

    page.goto(f"{base}/")
    page.locator("a.sf-book").first.click()
    expect(page.get_by_role("heading", name=book)).to_be_visible()
    page.locator('a[data-staff="any"]').click()
    expect(page.get_by_role("heading", name=pick)).to_be_visible()
    slot = page.locator(".sf-slots a").first
    label = slot.inner_text().strip()
    slot.click()
    page.fill("#name", name)
    page.fill("#email", email)
    page.fill("#phone", "20 30 40 50")
    page.locator(".sf-form button[type=submit]").click()
    page.locator(".sf-confirm-form button[value=confirm]").click()
    expect(page.get_by_role("heading", name=confirm)).to_be_visible()
    return label


def test_a_danish_and_an_english_customer_each_book_and_read_in_their_language(
        ctx, live_server, browser, mailbox, screenshot_dir):
    from playwright.sync_api import expect

    seed_salon()
    base = tenant_url(live_server)

    def phone(locale: str):
        context = browser.new_context(viewport=PHONE, locale=locale, timezone_id="Europe/Copenhagen",
                                      extra_http_headers={"Accept-Language": locale})
        context.set_default_timeout(15_000)
        return context.new_page()

    danish = phone("da-DK")
    danish.goto(f"{base}/")
    expect(danish.locator("html")).to_have_attribute("lang", re.compile(r"^da"))
    expect(danish.locator("main")).to_contain_text(re.compile(r"\d+,\d\d\u00a0kr\."))  # "450,00 kr."
    time_da = _book(danish, base, "Freja Holm", "freja@example.com",
                    book="Vælg medarbejder", pick="Vælg tidspunkt", confirm="Du er booket!")
    assert re.fullmatch(r"\d\d[.:]\d\d", time_da), time_da  # the 24-hour clock
    summary = danish.locator("main").inner_text()
    assert any(day in summary for day in DANISH_DAYS) and "kr." in summary
    danish.screenshot(path=str(screenshot_dir / "i18n-danish-booked-phone.png"), full_page=True)

    english = phone("en-GB")
    time_en = _book(english, base, "Emma Smith", "emma@example.com",
                    book="Choose a professional", pick="Choose a time", confirm="You're booked!")
    summary = english.locator("main").inner_text()
    assert any(day in summary for day in ENGLISH_DAYS) and "Du er booket" not in summary
    english.screenshot(path=str(screenshot_dir / "i18n-english-booked-phone.png"), full_page=True)
    assert time_en

    deliver_all(ctx)
    [mail_da] = mailbox.to("freja@example.com", "Booking bekræftet")
    body = text_of(mail_da)
    assert any(day in body for day in DANISH_DAYS) and "kr." in body
    [mail_en] = mailbox.to("emma@example.com", "Booking confirmed")
    assert any(day in text_of(mail_en) for day in ENGLISH_DAYS)
