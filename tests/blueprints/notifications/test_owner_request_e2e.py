"""The owner of a business that confirms bookings by hand gets an email for a booking request
(through the real SMTP catcher), opens its link in Chromium, signs in and confirms the booking."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD
from tests.support.conftest_mail import text_of
from tests.support.notification_support import bella, book, day_at, deliver_all

pytestmark = pytest.mark.e2e


def test_owner_confirms_a_booking_request_from_the_email_link_in_chromium(live_server, ctx, new_page, mailbox):
    from playwright.sync_api import expect

    biz = bella(requires_confirmation=True)
    port = int(live_server.rsplit(":", 1)[1])
    saved = ctx.config["PUBLIC_PORT"]
    ctx.config["PUBLIC_PORT"] = port  # the email's links point at the running server
    try:
        booking_id = book(biz, day_at(5, 9), email="guest@example.com")
        deliver_all(ctx)
    finally:
        ctx.config["PUBLIC_PORT"] = saved
    [notice] = mailbox.to(biz.owner_email, "New booking request")
    link = re.search(r"http://bella\.localhost:\d+/dashboard/bookings/\S+", text_of(notice)).group(0)
    assert link == f"http://{biz.host(port)}/dashboard/bookings/{booking_id}"

    page = new_page()
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(link)  # not signed in yet: the login page, then back to the booking
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"**/dashboard/bookings/{booking_id}")
    expect(page.locator("main")).to_contain_text("Alice Andersen")
    page.get_by_role("button", name="Confirm").first.click()
    expect(page.locator("main")).to_contain_text("pending → confirmed", ignore_case=True)  # in the booking's history
    assert not errors, errors
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        assert db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id)) == "confirmed"
        db.session.commit()
