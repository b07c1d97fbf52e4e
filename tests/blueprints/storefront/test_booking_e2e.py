"""A customer books on the storefront in Chromium, in their own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.booking.models import Booking, Customer
from app.catalog.models import Service, StaffMember
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.e2e

TEAM = [("Sofie Jensen", "Colour specialist with 12 years behind the chair."),
        ("Mads Nielsen", "Precision cuts and beard work."),
        ("Ida Larsen", "Curly hair and styling for events.")]
MENU = [("Women's haircut", 60, 64900, "Cuts", "Cut, wash and blow-dry."),
        ("Men's haircut", 30, 39900, "Cuts", "Classic or modern cut."),
        ("Full colour", 120, 149900, "Colour", "Root to tip colour incl. toner."),
        ("Highlights", 90, 119900, "Colour", "Foils, half head."),
        ("Beard trim", 20, 19900, "Grooming", "Shape-up with hot towel.")]


def tenant_url(live_server: str, slug: str = "bella") -> str:
    """``http://<slug>.localhost:<port>`` for the live server (Chromium resolves *.localhost to loopback)."""
    return f"http://{slug}.localhost:{urlparse(live_server).port}"


def seed_salon():
    """A realistic salon (names, categories, bios, lunch break) built on ``make_business``."""
    hours = {d: [("09:00", "12:00"), ("12:30", "17:30")] for d in range(7)}
    biz = make_business("bella", staff=len(TEAM), hours=hours, services=[(n, m, p) for n, m, p, _, _ in MENU],
                        buffer_after=10)
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.id == biz.tenant_id))
    tenant.name, tenant.category = "Bella Hair Studio", "Hair salon"
    with tenant_scope(biz.tenant_id):
        for position, (sid, (_, _, _, category, description)) in enumerate(zip(biz.service_ids, MENU, strict=True)):
            svc = db.session.scalar(sa.select(Service).where(Service.id == sid))
            svc.category, svc.description, svc.position = category, description, position
        for staff_id, (name, bio) in zip(biz.staff_ids, TEAM, strict=True):
            member = db.session.scalar(sa.select(StaffMember).where(StaffMember.id == staff_id))
            member.name, member.bio = name, bio
        db.session.commit()
    return biz


def test_customer_books_a_slot(ctx, live_server, new_page, screenshot_dir):
    biz = seed_salon()
    base = tenant_url(live_server)
    page = new_page("Europe/Copenhagen")

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Bella Hair Studio")).to_be_visible()
    expect(page.get_by_text("Colour specialist with 12 years behind the chair.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "storefront.png"), full_page=True)

    page.locator(f'[data-service="{biz.service_ids[0]}"] a.sf-book').click()
    expect(page.get_by_role("heading", name="Choose a professional")).to_be_visible()
    page.locator('a[data-staff="any"]').click()
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    expect(page.locator("[data-customer-tz]")).to_have_text("Europe/Copenhagen")

    # Changing the day swaps the picker in place (HTMX): the page's JS state survives.
    page.evaluate("window.__stillHere = true")
    day = page.locator(".sf-day:not(.empty)").nth(1)
    date = day.get_attribute("data-date")
    day.click()
    expect(page.locator(f'.sf-day.active[data-date="{date}"]')).to_be_visible()
    assert page.evaluate("window.__stillHere === true")
    assert f"date={date}" in page.url
    page.screenshot(path=str(screenshot_dir / "slot-picker.png"), full_page=True)

    slot = page.locator(".sf-slots a").nth(2)
    label = slot.inner_text().strip()
    slot.click()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    page.fill("#name", "Emma Sørensen")
    page.fill("#email", "emma@example.com")
    page.fill("#phone", "20 30 40 50")
    page.fill("#notes", "First visit, shoulder length.")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    expect(page.get_by_text("+4520304050")).to_be_visible()
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(page.locator(".sf-review-time")).to_contain_text(label)
    expect(page.locator(".sf-manage-link")).to_contain_text("/manage/")
    page.screenshot(path=str(screenshot_dir / "confirmation.png"), full_page=True)

    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        [booking] = db.session.scalars(sa.select(Booking)).all()
        customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
    local = booking.starts_at.astimezone(ZoneInfo("Europe/Copenhagen"))
    assert (local.date().isoformat(), local.strftime("%H:%M")) == (date, label)
    assert (booking.status, customer.phone) == ("confirmed", "+4520304050")


def test_slot_times_are_shown_in_the_browsers_time_zone(ctx, live_server, new_page):
    biz = make_business("bella", staff=1)  # Copenhagen, open 09:00–17:00 every day
    new_york = ZoneInfo("America/New_York")
    day = datetime.now(new_york).date() + timedelta(days=3)
    first = datetime.combine(day, time(9), tzinfo=ZoneInfo("Europe/Copenhagen")).astimezone(new_york)
    page = new_page("America/New_York")

    # No tz in the URL: the page asks the browser and reloads with it.
    page.goto(f"{tenant_url(live_server)}/book/{biz.service_ids[0]}/slots?staff=any&date={day}")
    page.wait_for_url("**tz=America%2FNew_York**")
    expect(page.locator("[data-customer-tz]")).to_have_text("America/New_York")
    expect(page.get_by_text("business is in Europe/Copenhagen")).to_be_visible()
    expect(page.locator(".sf-slots a").first).to_have_text(first.strftime("%H:%M"))
    assert first.strftime("%H:%M") != "09:00"

    # Switching the zone with the selector converts the times back.
    page.select_option("#tz-select", "Europe/Copenhagen")
    expect(page.locator("[data-customer-tz]")).to_have_text("Europe/Copenhagen")
    expect(page.locator(".sf-slots a").first).to_have_text("09:00")
