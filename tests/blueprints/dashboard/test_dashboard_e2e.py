"""The staff dashboard in Chromium against a running server: log in through the real login
page, see next week's bookings, watch a new booking appear by polling, confirm one over
HTMX, and record the screenshot in ``docs/screenshots/dashboard.png``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.booking.service import Actor, CustomerInput, create_booking, transition
from app.catalog.models import StaffMember
from app.catalog.service import update_staff_member
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import PASSWORD, make_business
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]

CUSTOMERS = [
    ("Sofie Nielsen", "sofie@example.com", "+4520123456", "Bring photos of the colour I want"),
    ("Lars Jensen", "lars@example.com", "+4522334455", ""),
    ("Emma Hansen", "emma@example.com", "+4540506070", "First visit"),
    ("Noah Pedersen", "noah@example.com", "+4530405060", ""),
    ("Ida Larsen", "ida@example.com", "+4561626364", ""),
    ("William Berg", "william@example.com", "+4571727374", "Sensitive scalp"),
    ("Freja Holm", "freja@example.com", "+4526272829", ""),
    ("Oscar Lund", "oscar@example.com", "+4528293031", ""),
]
#: (day offset from Monday, local hour, minute, customer index, service index, staff index, confirm?)
PLAN = [
    (0, 9, 0, 0, 2, 0, True), (0, 11, 30, 1, 1, 1, True), (0, 14, 0, 2, 0, 2, False),
    (1, 10, 0, 3, 1, 0, True), (1, 13, 0, 4, 0, 1, True),
    (2, 9, 30, 5, 0, 2, True), (2, 12, 0, 6, 2, 0, False), (2, 15, 0, 7, 1, 1, True),
    (3, 10, 30, 0, 1, 2, True),
    (4, 9, 0, 1, 0, 0, True), (4, 11, 0, 2, 2, 1, True), (4, 14, 30, 3, 1, 2, False), (4, 16, 0, 4, 1, 0, True),
    (5, 10, 0, 5, 2, 1, True), (5, 12, 30, 6, 0, 2, True),
]


def _seed() -> tuple[object, datetime, list[str]]:
    """Bella with three named stylists, three services and next week's bookings (some pending)."""
    biz = make_business("bella", staff=3, requires_confirmation=True,
                        services=[("Women's cut & style", 60, 65000), ("Men's cut", 30, 35000),
                                  ("Full colour", 90, 120000)])
    tz = zone(biz.timezone)
    today = utcnow().astimezone(tz).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    with tenant_scope(biz.tenant_id):
        for sid, name in zip(biz.staff_ids, ["Maja Sørensen", "Jonas Kristensen", "Clara Friis"], strict=True):
            member = db.session.get(StaffMember, (biz.tenant_id, sid))
            update_staff_member(member, name=name, bio="", email=None, active=True)
        tenant = db.session.get(Tenant, biz.tenant_id)
        for offset, hour, minute, ci, si, st, confirm in PLAN:
            name, email, phone, notes = CUSTOMERS[ci]
            start = datetime.combine(monday + timedelta(days=offset), time(hour, minute), tzinfo=tz).astimezone(UTC)
            booking = create_booking(tenant, service_id=biz.service_ids[si], staff_id=biz.staff_ids[st], start=start,
                                     customer=CustomerInput(name, email, phone), customer_timezone=biz.timezone,
                                     notes=notes)
            if confirm:
                transition(booking, "confirm", Actor("staff"))
        db.session.commit()
    return biz, datetime.combine(monday, time(0), tzinfo=tz), [c[0] for c in CUSTOMERS]


def test_dashboard_week_view_in_chromium(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz, monday, _names = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    week_url = f"{base}/dashboard/?view=week&date={monday.date().isoformat()}&staff=all"
    page = new_page()
    errors: list[str] = []
    # Failed loads are caught as responses (the browser's own favicon probe is not one of ours).
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{base}/login?next=/dashboard/")
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/**")
    page.goto(week_url)
    board = page.locator("#bookings")
    expect(board.locator(".db-chip")).to_have_count(len(PLAN))
    expect(board).to_contain_text("Sofie Nielsen")
    expect(board).to_contain_text("Maja Sørensen")
    expect(board.locator(".db-chip.s-pending")).to_have_count(sum(not c for *_, c in PLAN))
    page.screenshot(path=str(screenshot_folder() / "dashboard.png"), full_page=True)

    # A booking made elsewhere shows up without a reload (the board polls every 10 s).
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        start = (monday + timedelta(days=6, hours=13)).astimezone(UTC)
        create_booking(tenant, service_id=biz.service_ids[1], staff_id=biz.staff_ids[0], start=start,
                       customer=CustomerInput("Walk-in Viggo", "viggo@example.com", "+4599887766"),
                       customer_timezone=biz.timezone)
        db.session.commit()
    expect(board).to_contain_text("Walk-in Viggo", timeout=25_000)

    # Open Monday in the day view and confirm the pending booking there, over HTMX.
    page.locator(".db-day-head").first.click()
    expect(page.locator(".db-seg a.on")).to_have_text("Day")
    pending = page.locator(".db-booking.s-pending").first
    expect(pending).to_contain_text("Emma Hansen")
    pending.get_by_role("button", name="Confirm").click()
    expect(page.locator("#bookings")).to_contain_text("Booking confirmed.")
    expect(page.locator(".db-booking.s-pending")).to_have_count(0)
    assert not errors, errors
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        emma = list(db.session.scalars(sa.select(Booking.status).join(Customer, Customer.id == Booking.customer_id)
                                       .where(Customer.email == "emma@example.com")))
    assert emma == ["confirmed", "confirmed"]


def test_a_refused_htmx_form_says_why_in_chromium(live_server, ctx, new_page):
    """A form sent over HTMX that the edge refuses (a control character: 400 page) shows the
    reason above the page; before, the click did nothing at all. Nothing is saved."""
    from playwright.sync_api import expect

    from app.catalog.models import Service

    biz = make_business("bella", staff=1)
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = new_page()
    page.goto(f"{base}/login?next=/dashboard/")
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/**")
    page.goto(f"{base}/dashboard/services/new")
    page.fill("#name", "Balayage")
    page.evaluate("() => { document.querySelector('#name').value = 'Bala\\u0000yage'; }")
    page.locator("#service-form button[type=submit]").click()
    alert = page.locator(".flashes .flash.error[role=alert]")
    expect(alert).to_contain_text("name")
    expect(alert).to_contain_text("character")
    assert page.url.endswith("/dashboard/services/new")  # the form is still there to correct
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        names = set(db.session.scalars(sa.select(Service.name)))
    assert "Balayage" not in names and not any("yage" in n for n in names)
