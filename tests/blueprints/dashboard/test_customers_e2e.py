"""The receptionist looks up a regular in Chromium: search as you type on the Customers page,
open her page, read her history and notes, add a note and a tag over HTMX; the list and the
customer page fit a 360 px phone without sideways scrolling. Screenshots ``customers.png``,
``customer.png`` and ``customer-360.png`` (``docs/screenshots/`` under ``make screenshots``)."""

from __future__ import annotations

import pytest

from app.booking.models import BookingStatus
from app.customers.service import add_note, add_tag
from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from tests.customers.crm_support import book, customer
from tests.factories import PASSWORD, make_business, make_user
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

#: Fits horizontally: the page's content is no wider than the viewport.
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _seed():
    biz = make_business("bella", staff=3)
    make_user("desk@bella.test", name="Rikke at the desk")
    with tenant_scope(biz.tenant_id):
        add_membership(find_user("desk@bella.test"), Role.STAFF)
        book(biz, "Sofie Nielsen", "sofie@example.com", days=-20, phone="+4520123456",
             status=BookingStatus.COMPLETED)
        book(biz, "Sofie Nielsen", "sofie@example.com", days=-6, index=1, status=BookingStatus.COMPLETED)
        book(biz, "Sofie Nielsen", "sofie@example.com", days=3, index=2)
        for i, (name, email) in enumerate([("Lars Jensen", "lars@example.com"), ("Emma Hansen", "emma@example.com"),
                                           ("Noah Pedersen-Vestergaard-Christiansen",
                                            "noah.pedersen.vestergaard.christiansen@a-rather-long-domain.example")]):
            book(biz, name, email, days=-2 - i, index=i + 3, status=BookingStatus.COMPLETED)
        sofie = customer("sofie@example.com")
        add_note(sofie, "Colour 7.1 with 20 vol; allergic to ammonia-based products.", author_user_id=None,
                 author_name="Maja")
        add_tag(sofie, "Regular")
    db.session.commit()
    return biz


def test_receptionist_looks_up_a_regular_in_chromium(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{base}/login?next=/dashboard/customers")
    page.fill("input[name=email]", "desk@bella.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/customers")
    results = page.locator("#customer-results")
    expect(results.locator(".crm-row")).to_have_count(4)
    page.screenshot(path=str(screenshot_folder() / "customers.png"), full_page=True)

    page.locator("#customer-q").press_sequentially("sofi", delay=40)  # as you type, no submit
    expect(results.locator(".crm-row")).to_have_count(1)
    expect(results).to_contain_text("Sofie Nielsen")
    page.locator("#customer-q").fill("2012")  # part of her phone number
    expect(results.locator(".crm-row")).to_have_count(1)
    results.get_by_text("Sofie Nielsen").click()
    page.wait_for_url("**/dashboard/customers/*")
    expect(page.locator("h1")).to_have_text("Sofie Nielsen")
    expect(page.locator(".crm-stats")).to_contain_text("2")  # two visits
    expect(page.locator(".crm-bookings")).to_contain_text("Haircut")
    expect(page.locator("#customer-notes")).to_contain_text("allergic to ammonia")
    expect(page.locator("#customer-tags")).to_contain_text("Regular")

    page.fill("#customer-notes textarea", "Booked her next colour by phone.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#customer-notes .crm-notes li").first).to_contain_text("Booked her next colour by phone.")
    expect(page.locator("#customer-notes .crm-notes li").first).to_contain_text("Rikke at the desk")
    page.fill("#customer-tags input[name=tag]", "Prefers mornings")
    page.locator("#customer-tags").get_by_role("button", name="Add").click()
    expect(page.locator("#customer-tags")).to_contain_text("Prefers mornings")
    page.screenshot(path=str(screenshot_folder() / "customer.png"), full_page=True)

    page.set_viewport_size({"width": 360, "height": 780})
    for path in ("/dashboard/customers", f"/dashboard/customers/{_sofie_id(biz)}"):
        page.goto(base + path)
        assert page.evaluate(NO_SIDEWAYS_SCROLL), path
    page.screenshot(path=str(screenshot_folder() / "customer-360.png"), full_page=True)
    assert not errors, errors


def _sofie_id(biz) -> str:
    with tenant_scope(biz.tenant_id):
        return str(customer("sofie@example.com").id)
