"""Leaving a review on a 360 px phone in Chromium, from the email's link: stars by keyboard and by
tap, the optional details, the text, posted in one go; then the review on the profile, and the
owner's reply from the dashboard shown under it. Nothing scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.booking.links import manage_token
from app.extensions import db
from app.reviews.links import review_path
from app.tenants.context import tenant_scope
from tests.blueprints.storefront.test_booking_e2e import seed_salon, tenant_url
from tests.factories import PASSWORD
from tests.reviews.support import visit

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 900}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_review_from_the_email_link_on_a_phone_then_the_owner_replies(ctx, live_server, browser, screenshot_dir):
    biz = seed_salon()
    with tenant_scope(biz.tenant_id):
        booking = visit(biz, "emma@example.com", name="Emma Sørensen")
        path = review_path(manage_token(booking))
        db.session.commit()
    base = tenant_url(live_server)
    phone = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="Europe/Copenhagen")
    desk = browser.new_context(viewport=DESK, locale="en-GB", timezone_id="Europe/Copenhagen")
    for context in (phone, desk):
        context.set_default_timeout(10_000)
    try:
        page = phone.new_page()
        page.goto(base + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text("How was your")
        assert _fits(page)
        # The overall rating is a radio group: focus it, arrow keys move along the stars.
        page.locator("#rating-1").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("radio", name="4 stars").first).to_be_checked()
        page.get_by_text("Rate the details too (optional)").click()
        page.locator("label[for=quality-5]").click()  # a tap on the fifth star
        expect(page.locator("#quality-5")).to_be_checked()
        page.get_by_label("Tell others about your visit (optional)").fill("Lovely colour, <b>very</b> friendly.")
        page.screenshot(path=str(screenshot_dir / "review-phone-form.png"), full_page=True)
        page.get_by_role("button", name="Post review").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your review")
        expect(page.locator(".rv-item")).to_contain_text("Lovely colour, very friendly.")
        expect(page.locator(".rv-verified")).to_contain_text("Verified visit ·")
        expect(page.get_by_role("link", name="Edit your review")).to_be_visible()
        assert _fits(page)
        page.screenshot(path=str(screenshot_dir / "review-phone-posted.png"), full_page=True)

        page.goto(base + "/")
        reviews = page.locator("#reviews")
        expect(reviews).to_contain_text("4.0")
        expect(reviews).to_contain_text("1 verified review")
        assert _fits(page)
        reviews.screenshot(path=str(screenshot_dir / "profile-reviews-phone.png"))

        owner = desk.new_page()
        owner.goto(f"{base}/login?next=/dashboard/reviews")
        owner.fill("#login-form input[name=email]", biz.owner_email)
        owner.fill("#login-form input[name=password]", PASSWORD)
        owner.click("#login-form button[type=submit]")
        owner.wait_for_url("**/dashboard/reviews")
        owner.get_by_text("Reply", exact=True).click()
        owner.get_by_label("Public reply").fill("Thank you, Emma! See you soon.")
        owner.get_by_role("button", name="Publish reply").click()
        expect(owner.locator(".rv-reply")).to_contain_text("Thank you, Emma!")
        owner.screenshot(path=str(screenshot_dir / "review-dashboard-reply.png"), full_page=True)

        page.goto(base + "/reviews")
        expect(page.locator(".rv-reply")).to_contain_text("Thank you, Emma! See you soon.")
        assert _fits(page)
        page.screenshot(path=str(screenshot_dir / "reviews-page-phone.png"), full_page=True)
    finally:
        phone.close()
        desk.close()
