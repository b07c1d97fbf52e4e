"""In Chromium against a running server: a customer with two quotes opens the manage link, asks one
provider a question in the job chat, confirms that quote at a time from the provider's calendar,
and sees "Booked"; the provider's dashboard calendar has the booking. The same pages on a 360 px
phone scroll only vertically. Screenshots ``docs/screenshots/request-manage-*.png``."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.chat.models import Message
from app.extensions import db
from app.leads.models import JobRequest
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import PASSWORD, make_business
from tests.leads.customer_rows import make_lead, make_request
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_customer_negotiates_confirms_and_books_in_chromium(live_server, ctx, new_page):
    from playwright.sync_api import expect

    fixit = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    tapco = make_business("tapco", timezone="America/New_York", currency="USD", staff=1)
    req = make_request()
    lead = make_lead(fixit.tenant_id, req.id, low=9000, high=14000,
                     message="I can replace the cartridge; parts included.")
    make_lead(tapco.tenant_id, req.id, low=8000, high=20000, message="Depends on the tap model.")
    db.session.remove()
    port = int(live_server.rsplit(":", 1)[1])
    apex = f"http://localhost:{port}"
    shots = screenshot_folder()

    page = new_page(timezone_id="America/New_York")
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{apex}/requests/{req.id}?t={req.token}")
    offers = page.locator(".rm-offer")
    expect(offers).to_have_count(2)
    expect(page.locator(".rm-timeline")).to_contain_text("Sent to 2 providers")
    fixit_card = page.locator(".rm-offer[data-business='Fixit']")
    expect(fixit_card).to_contain_text("$90.00 – $140.00")
    page.screenshot(path=str(shots / "request-manage-offers.png"), full_page=True)

    # Negotiate in the job chat.
    fixit_card.get_by_role("link", name="Message").click()
    page.fill("#chat-body", "Could you come on a weekday morning?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-messages")).to_contain_text("Could you come on a weekday morning?")
    page.screenshot(path=str(shots / "request-manage-chat.png"), full_page=True)
    with tenant_scope(fixit.tenant_id):
        assert db.session.scalar(sa.select(Message.body)) == "Could you come on a weekday morning?"
    db.session.remove()

    # Confirm the quote at a free time.
    page.get_by_role("link", name="Back to your request").click()
    page.locator(".rm-offer[data-business='Fixit']").get_by_role("link", name="Confirm & pick a time").click()
    slot = page.locator("input[name=start]").nth(2)
    chosen = slot.get_attribute("value")
    page.locator(".rm-slot").nth(2).click()
    page.screenshot(path=str(shots / "request-manage-pick.png"), full_page=True)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("#rm-booked")).to_contain_text("Booked with Fixit")
    expect(page.locator(".rm-status")).to_have_text("Booked")
    expect(page.locator(".rm-offer[data-business='Tapco']")).to_contain_text("Not chosen")
    page.screenshot(path=str(shots / "request-manage-booked.png"), full_page=True)
    assert not errors, errors

    with tenant_scope(fixit.tenant_id):
        booking = db.session.scalar(sa.select(Booking))
        assert booking.starts_at == datetime.fromisoformat(chosen) and booking.status == "confirmed"
        day = booking.starts_at.astimezone(ZoneInfo("America/New_York")).date().isoformat()
    with platform_scope("test"):
        assert db.session.get(JobRequest, req.id).won_lead_id == lead
    db.session.remove()

    # The provider sees it in their calendar.
    desk = new_page(timezone_id="America/New_York")
    base = f"http://{fixit.host(port)}"
    desk.goto(f"{base}/login?next=/dashboard/")
    desk.fill("input[name=email]", fixit.owner_email)
    desk.fill("input[name=password]", PASSWORD)
    desk.click("#login-form button[type=submit]")
    desk.wait_for_url("**/dashboard/**")
    desk.goto(f"{base}/dashboard/?view=day&date={day}&staff=all")
    expect(desk.locator("#bookings")).to_contain_text("Cara Customer")

    # On a phone: the manage page and the dashboard of requests fit 360 px.
    phone = new_page(timezone_id="America/New_York")
    phone.set_viewport_size(PHONE)
    phone.goto(f"{apex}/requests/{req.id}?t={req.token}")
    expect(phone.locator("#rm-booked")).to_contain_text("Booked with Fixit")
    assert _fits(phone)
    phone.screenshot(path=str(shots / "request-manage-phone.png"), full_page=True)
    phone.goto(f"{apex}/requests/{req.id}/offers/{lead}/chat")
    expect(phone.locator("#chat-messages")).to_contain_text("weekday morning")
    assert _fits(phone)


def test_my_job_requests_on_a_phone_in_chromium(live_server, ctx, new_page):
    from playwright.sync_api import expect

    from app.audit.service import AuditActor
    from app.leads.confirm import confirm_quote
    from app.uow import unit_of_work
    from tests.factories import make_user

    uid = make_user("cara@example.test")
    fixit = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    booked = make_request(user_id=uid, title="Fix a leaking kitchen tap")
    lead = make_lead(fixit.tenant_id, booked.id, low=9000, high=14000)
    start = datetime.now(ZoneInfo("America/New_York")).replace(hour=10, minute=0, second=0, microsecond=0)
    with unit_of_work():
        confirm_quote(booked.id, lead, start + timedelta(days=1), AuditActor(uid))
    make_request(user_id=uid, title="Assemble a wardrobe")
    db.session.remove()
    port = int(live_server.rsplit(":", 1)[1])
    apex = f"http://localhost:{port}"

    phone = new_page(timezone_id="America/New_York")
    phone.set_viewport_size(PHONE)
    phone.goto(f"{apex}/login?next=/account/requests")
    phone.fill("input[name=email]", "cara@example.test")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("#login-form button[type=submit]")
    phone.wait_for_url("**/account/requests")
    expect(phone.locator("#rm-list")).to_contain_text("Assemble a wardrobe")
    phone.get_by_role("link", name="Completed").click()
    expect(phone.locator("#rm-list")).to_contain_text("with Fixit")
    expect(phone.locator(".rm-providers")).to_contain_text("Fixit")
    expect(phone.locator(".rm-spend-table")).to_contain_text("$140.00")
    assert _fits(phone)
    phone.screenshot(path=str(screenshot_folder() / "request-account-phone.png"), full_page=True)
