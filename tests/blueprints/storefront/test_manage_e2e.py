"""The customer's manage page in Chromium on a 360 px phone: cancelling asks first (by
keyboard, in place over HTMX, focus on the question), moving asks first, and both work
without JavaScript as plain pages."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.booking.models import Booking
from app.booking.service import CustomerInput, create_booking, manage_token
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.blueprints.storefront.test_booking_e2e import seed_salon, tenant_url

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}


def _booked(biz) -> tuple[str, datetime]:
    """A committed booking at 10:00 in three days' time; its manage token and start."""
    tz = zone(biz.timezone)
    start = datetime.combine(utcnow().astimezone(tz).date() + timedelta(days=3), time(10), tzinfo=tz)
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=biz.staff_ids[0], start=start,
                                 customer=CustomerInput("Emma Sørensen", "emma@example.com", "+4520304050"),
                                 customer_timezone=biz.timezone)
        token = manage_token(booking)
        db.session.commit()
    return token, start


def _booking(biz) -> Booking:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return db.session.scalar(sa.select(Booking))


def settled(page) -> None:
    """Wait until HTMX has finished swapping and settling (it moves the focus when it settles)."""
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_cancel_and_move_ask_first_by_keyboard(ctx, live_server, browser, screenshot_dir):
    biz = seed_salon()
    token, start = _booked(biz)
    base = tenant_url(live_server)
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="Europe/Copenhagen")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{base}/manage/{token}")
        expect(page.locator(".sf-status")).to_contain_text("Confirmed")
        expect(page.locator("#change-notice")).to_contain_text("You can cancel or move this booking online until")
        assert _fits(page)

        # Cancel: the link, by keyboard, swaps in the question and moves the focus to it.
        page.get_by_role("link", name="Cancel booking…").focus()
        page.keyboard.press("Enter")
        question = page.get_by_role("heading", name="Cancel this booking?")
        expect(question).to_be_focused()
        assert _fits(page)
        page.screenshot(path=str(screenshot_dir / "manage-cancel-question.png"), full_page=True)
        assert _booking(biz).status == "confirmed"  # asking changed nothing
        # "Keep my booking" goes back without changing anything.
        page.get_by_role("link", name="Keep my booking").click()
        expect(page.get_by_role("link", name="Cancel booking…")).to_be_visible()

        # Move: pick a time, answer the question.
        page.get_by_role("link", name="Pick a new time").click()
        expect(page.get_by_role("heading", name="Pick a new time")).to_be_visible()
        later = (start + timedelta(days=1)).date().isoformat()  # well before the cut-off
        page.locator(f'.sf-day[data-date="{later}"]').click()
        expect(page.locator(f'.sf-day.active[data-date="{later}"]')).to_be_visible()
        page.locator(".sf-slots a").nth(1).click()
        expect(page.get_by_role("heading", name="Move this booking?")).to_be_focused()
        assert _booking(biz).starts_at == start
        page.screenshot(path=str(screenshot_dir / "manage-move-question.png"), full_page=True)
        page.get_by_role("button", name="Yes, move it").click()
        expect(page.locator(".flashes")).to_contain_text("Your booking was moved to")
        moved = _booking(biz).starts_at
        assert moved != start

        # Cancel for real, by keyboard: Enter on the link, type a reason, Enter on "Yes".
        page.get_by_role("link", name="Cancel booking…").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_focused()
        settled(page)
        page.keyboard.press("Tab")
        expect(page.get_by_label("Reason (optional)")).to_be_focused()
        page.keyboard.type("Flu")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Yes, cancel booking")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(".sf-status")).to_contain_text("This booking was cancelled by you.")
        expect(page.locator(".sf-status")).to_contain_text("Flu")
        expect(page.get_by_role("link", name="Cancel booking…")).to_have_count(0)
        page.screenshot(path=str(screenshot_dir / "manage-cancelled.png"), full_page=True)
        assert _booking(biz).status == "cancelled"
    finally:
        context.close()


def test_cancel_asks_first_without_javascript(ctx, live_server, browser):
    biz = seed_salon()
    token, _start = _booked(biz)
    base = tenant_url(live_server)
    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{base}/manage/{token}")
        page.get_by_role("link", name="Cancel booking…").click()
        page.wait_for_url(f"**/manage/{token}/cancel")
        expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
        assert _booking(biz).status == "confirmed"
        page.get_by_role("button", name="Yes, cancel booking").click()
        page.wait_for_url(f"**/manage/{token}")
        expect(page.locator(".sf-status")).to_contain_text("Cancelled")
        assert _booking(biz).status == "cancelled"
    finally:
        context.close()
