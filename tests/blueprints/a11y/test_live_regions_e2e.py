"""Changes a screen reader user would otherwise miss are spoken through the page's live regions
(app/static/js/a11y.js): a booking made elsewhere appearing on the polled board."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import PASSWORD, make_business

pytestmark = pytest.mark.e2e


def test_a_new_booking_on_the_board_is_announced_politely(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz = make_business("bella", staff=1)
    tz = zone(biz.timezone)
    today = utcnow().astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = new_page()
    page.goto(f"{base}/login?next=/dashboard/")
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/**")
    page.goto(f"{base}/dashboard/?view=week&date={(monday + timedelta(days=7)).isoformat()}&staff=all")
    status = page.locator("#a11y-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.locator("#a11y-alert")).to_have_attribute("aria-live", "assertive")
    expect(status).to_have_text("")

    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        start = datetime.combine(monday + timedelta(days=8), time(13), tzinfo=tz).astimezone(UTC)
        create_booking(tenant, service_id=biz.service_ids[0], staff_id=biz.staff_ids[0], start=start,
                       customer=CustomerInput("Walk-in Viggo", "viggo@example.com", "+4599887766"),
                       customer_timezone=biz.timezone)
        db.session.commit()
    expect(page.locator("#bookings")).to_contain_text("Walk-in Viggo", timeout=30_000)
    expect(status).to_contain_text("Walk-in Viggo")
    expect(status).to_contain_text("New:")
    # Focus stayed where the person left it: a poll never moves it.
    assert page.evaluate("document.activeElement === document.body")
