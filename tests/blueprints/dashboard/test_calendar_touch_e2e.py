"""Dragging a booking on the calendar with a finger (issue 10): in Chromium with touch, a long
press picks the booking up and lifting the finger over another stylist's slot moves it (the
same move endpoint as a mouse drop); a quick swipe only scrolls and moves nothing. Touches are
sent as real touch input (CDP ``Input.dispatchTouchEvent``), so the page sees pointer events
of type ``touch``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import PASSWORD, make_business

pytestmark = pytest.mark.e2e


def _seed():
    biz = make_business("bella", staff=2, services=[("Cut", 60, 50000)])
    tz = zone(biz.timezone)
    tomorrow = utcnow().astimezone(tz).date() + timedelta(days=1)
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[0],
                                 start=datetime.combine(tomorrow, time(10), tzinfo=tz).astimezone(UTC),
                                 customer=CustomerInput("Sofie Nielsen", "sofie@example.com"),
                                 customer_timezone=biz.timezone)
        db.session.commit()
        return biz, tomorrow, booking.id


def _placed(biz, booking_id):
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        return b.staff_id, b.starts_at.astimezone(zone(biz.timezone)).time()


def _centre(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 12)


def _touch_drag(page, start, end, *, hold_ms: int, steps: int = 12):
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    page.wait_for_timeout(hold_ms)
    for i in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_long_press_drags_a_booking_to_another_stylist(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz, tomorrow, booking_id = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = new_page(has_touch=True)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(f"{base}/login?next=/dashboard/calendar")
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/calendar**")
    page.goto(f"{base}/dashboard/calendar?date={tomorrow.isoformat()}&view=day")
    booking = page.locator(f"#cal-booking-{booking_id}")
    booking.scroll_into_view_if_needed()
    second = str(biz.staff_ids[1])
    target = page.locator(f"[data-drop][data-staff='{second}'][data-time='11:00']")

    # Press and hold, then drag onto the second stylist at 11:00.
    _touch_drag(page, _centre(booking), _centre(target), hold_ms=800)
    expect(page.locator("#calendar")).to_contain_text("Booking moved.")
    expect(page.locator(f"#cal-booking-{booking_id}")).to_contain_text("11:00–12:00")
    assert _placed(biz, booking_id) == (biz.staff_ids[1], time(11))
    assert page.url.endswith("view=day")  # the lifted finger did not open the booking

    # A quick swipe up without the long press scrolls the page and moves nothing.
    moved = page.locator(f"#cal-booking-{booking_id}")
    x, y = _centre(moved)
    _touch_drag(page, (x, y), (x, y - 250), hold_ms=30)
    page.wait_for_timeout(800)
    assert _centre(moved)[1] < y - 50  # the content scrolled under the finger
    assert _placed(biz, booking_id) == (biz.staff_ids[1], time(11))
    assert page.url.endswith("view=day")
