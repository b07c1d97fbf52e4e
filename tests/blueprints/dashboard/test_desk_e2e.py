"""The front desk in Chromium, at desk size and at 360 px: a receptionist takes a phone
booking for a new customer, adds a walk-in for a customer found as she types, moves a
booking to another stylist with the "Move…" dialog and by dragging it on the calendar, and
blocks an hour. Screenshots go to the screenshot folder (``docs/screenshots/`` under
``make screenshots``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.booking.service import CustomerInput, create_booking
from app.catalog.models import StaffMember, TimeOff
from app.catalog.service import update_staff_member
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import PASSWORD, make_business
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

STYLISTS = ["Maja Sørensen", "Jonas Kristensen", "Clara Friis"]


def _seed():
    """Bella: three stylists working 09:00–17:00 every day, a 60-minute cut, and Sofie booked
    with Maja at 10:00 tomorrow."""
    biz = make_business("bella", staff=3, services=[("Women's cut", 60, 65000)])
    tz = zone(biz.timezone)
    tomorrow = utcnow().astimezone(tz).date() + timedelta(days=1)
    with tenant_scope(biz.tenant_id):
        for sid, name in zip(biz.staff_ids, STYLISTS, strict=True):
            update_staff_member(db.session.get(StaffMember, (biz.tenant_id, sid)), name=name, bio="", email=None,
                                active=True)
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[0],
                                 start=datetime.combine(tomorrow, time(10), tzinfo=tz).astimezone(UTC),
                                 customer=CustomerInput("Sofie Nielsen", "sofie@example.com", "+4520123456"),
                                 customer_timezone=biz.timezone)
        db.session.commit()
        return biz, tomorrow, booking.id


def _db(biz, stmt):
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        return list(db.session.execute(stmt))


@pytest.mark.parametrize("width", [1280, 360])
def test_a_receptionists_morning(live_server, ctx, new_page, width):
    from playwright.sync_api import expect

    biz, tomorrow, sofie_booking = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    shots = screenshot_folder()
    suffix = "" if width > 400 else "-360"
    page = new_page()
    page.set_viewport_size({"width": width, "height": 860 if width > 400 else 780})
    page.on("dialog", lambda d: d.accept())
    errors: list[str] = []
    # Chromium reports an *empty* style attribute that ends up on hidden inputs of forms swapped in by
    # htmx as an inline-style CSP violation when the page is cloned; it styles nothing (see the report).
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith(("Failed to load resource", "Applying inline style"))
            else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(f"{base}/login?next=/dashboard/calendar")
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/calendar**")

    # 1. A phone booking for a new customer, at a free start shown from availability.
    page.goto(f"{base}/dashboard/calendar?date={tomorrow.isoformat()}")
    page.get_by_role("link", name="New booking").first.click()
    page.wait_for_url("**/dashboard/bookings/new**")
    page.fill("#new_name", "Carla Phone")
    page.fill("#new_phone", "22 33 44 55")
    # Wait for the free starts of the chosen stylist (an HTMX swap), not the previous list.
    with page.expect_response(lambda r: "/dashboard/bookings/new/starts" in r.url):
        page.select_option("#staff", label=STYLISTS[1])
    page.wait_for_load_state("networkidle")
    expect(page.locator("#free-starts")).to_contain_text("11:00")
    page.locator("#free-starts [data-set-time='11:00']").click()
    expect(page.locator("#time")).to_have_value("11:00")
    page.screenshot(path=str(shots / f"desk-new-booking{suffix}.png"), full_page=True)
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url("**/dashboard/calendar**")
    grid = page.locator("#calendar")
    expect(page.locator(".flashes")).to_contain_text("Booked Carla Phone at 11:00.")
    expect(grid.locator(".cal-ev", has_text="Carla Phone")).to_contain_text("Phone")

    # 2. A walk-in now, for the customer found by typing part of her number.
    page.get_by_role("link", name="Walk-in now").first.click()
    page.wait_for_url("**walkin=1**")
    expect(page.locator("h1")).to_have_text("Walk-in")
    page.fill("#q", "2233")
    result = page.locator("#customer-results label", has_text="Carla Phone")
    expect(result).to_be_visible()
    result.click()
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url("**/dashboard/calendar**")
    expect(page.locator(".flashes")).to_contain_text("Booked Carla Phone at")
    expect(page.locator("#calendar .cal-ev", has_text="Walk-in")).to_have_count(1)

    # 3. Move Sofie to Jonas with the keyboard-accessible Move… dialog.
    page.goto(f"{base}/dashboard/bookings/{sofie_booking}")
    page.get_by_role("button", name="Move…").click()
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#time").fill("13:00")
    dialog.locator("#move-staff").select_option(label=STYLISTS[1])
    page.screenshot(path=str(shots / f"desk-move-dialog{suffix}.png"), full_page=True)
    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Booking moved.")
    expect(page.locator("#booking-detail")).to_contain_text(f"with {STYLISTS[1]}")

    # 4. Drag her back to Maja at 13:30 on the day view; a drop on a taken time snaps back.
    page.goto(f"{base}/dashboard/calendar?date={tomorrow.isoformat()}")
    maja = str(biz.staff_ids[0])
    page.drag_and_drop(f"#cal-booking-{sofie_booking}", f"[data-drop][data-staff='{maja}'][data-time='13:30']")
    expect(page.locator("#calendar")).to_contain_text("Booking moved.")
    expect(page.locator(f"#cal-booking-{sofie_booking}")).to_contain_text("13:30–14:30")
    jonas = str(biz.staff_ids[1])
    page.drag_and_drop(f"#cal-booking-{sofie_booking}", f"[data-drop][data-staff='{jonas}'][data-time='10:30']")
    expect(page.locator("#calendar [data-cal-error]")).to_contain_text("Jonas Kristensen already has a booking")
    expect(page.locator(f"#cal-booking-{sofie_booking}")).to_contain_text("13:30–14:30")

    # 5. Block an hour for Maja's team meeting.
    page.locator(".cal-block-form summary").click()
    page.select_option(".cal-block-form #staff", label=STYLISTS[0])
    page.fill(".cal-block-form #title", "Team meeting")
    page.fill(".cal-block-form #time", "12:00")
    page.fill(".cal-block-form #minutes", "60")
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.locator("#calendar")).to_contain_text("Blocked 60 minutes: Team meeting.")
    expect(page.locator("#calendar .cal-block")).to_contain_text("Team meeting")
    scroll = page.locator(".cal-scroll")
    if width <= 400:  # the columns scroll inside their own box, the page does not scroll sideways
        assert scroll.evaluate("el => el.scrollWidth > el.clientWidth")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(shots / f"desk-calendar{suffix}.png"), full_page=True)
    page.locator("#calendar .db-seg").get_by_role("link", name="Week").click()
    expect(page.locator("#calendar .db-eyebrow")).to_contain_text("Week")
    expect(page.locator(f"#cal-booking-{sofie_booking}")).to_contain_text("Sofie Nielsen")
    expect(page.locator("#calendar .cal-colhead")).to_have_count(7)
    page.screenshot(path=str(shots / f"desk-calendar-week{suffix}.png"), full_page=True)

    assert not errors, errors
    rows = _db(biz, sa.select(Customer.name, Booking.source, Booking.staff_id, Booking.starts_at)
               .join(Customer, Customer.id == Booking.customer_id).order_by(Booking.created_at))
    tz = zone(biz.timezone)
    assert [(name, source) for name, source, *_ in rows] == [("Sofie Nielsen", "online"), ("Carla Phone", "phone"),
                                                            ("Carla Phone", "walk_in")]
    assert rows[0][2] == biz.staff_ids[0] and rows[0][3] == datetime.combine(tomorrow, time(13, 30), tzinfo=tz)
    assert len(_db(biz, sa.select(Customer.id))) == 2
    assert [r[0] for r in _db(biz, sa.select(TimeOff.reason))] == ["Team meeting"]
