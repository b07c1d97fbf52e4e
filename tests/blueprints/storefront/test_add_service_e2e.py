"""A customer books "Cut + Colour" on a 360 px phone in Chromium: "Add another service" on the
staff step, the totals in the summary, a time where both fit, and the confirmation listing both;
no page scrolls sideways."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.booking.items import items_of
from app.booking.models import Booking
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import make_business

pytestmark = pytest.mark.e2e


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_cut_and_colour_in_one_booking_on_a_phone(ctx, live_server, new_page, screenshot_dir):
    biz = make_business("bella", staff=2, services=[("Women's haircut", 60, 64900), ("Full colour", 120, 149900),
                                                     ("Beard trim", 20, 19900)])
    base = f"http://bella.localhost:{urlparse(live_server).port}"
    page = new_page("Europe/Copenhagen")
    page.set_viewport_size({"width": 360, "height": 780})

    page.goto(f"{base}/book/{biz.service_ids[0]}")
    expect(page.get_by_role("heading", name="Choose a professional")).to_be_visible()
    assert _fits(page)
    page.get_by_text("Add another service").click()
    page.get_by_role("link", name="+ Full colour").click()
    summary = page.locator(".sf-summary")
    expect(summary).to_contain_text("Women's haircut + Full colour")
    expect(summary).to_contain_text("3 h in all")
    expect(summary).to_contain_text("2.148,00")
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "storefront-add-service-360.png"), full_page=True)

    page.locator('a[data-staff="any"]').click()
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    expect(page.locator(".sf-summary")).to_contain_text("Women's haircut + Full colour")
    starts = page.locator(".sf-slots a[data-start]")
    expect(starts.first).to_be_visible()
    labels = starts.all_inner_texts()
    assert "15:00" not in labels and "14:00" in labels  # 3 hours must fit before 17:00
    assert _fits(page)
    page.locator(".sf-slots a[data-start]", has_text="14:00").first.click()

    page.fill("#name", "Ann Customer")
    page.fill("#email", "ann@example.com")
    page.fill("#phone", "+45 20 30 40 50")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("body")).to_contain_text("Women's haircut + Full colour")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("body")).to_contain_text("14:00–15:00 Women's haircut")
    expect(page.locator("body")).to_contain_text("15:00–17:00 Full colour")
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "storefront-add-service-booked-360.png"), full_page=True)
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        booking = db.session.scalar(sa.select(Booking))
        assert [i.name for i in items_of(booking.id)] == ["Women's haircut", "Full colour"]
        assert booking.price_amount == 214800
