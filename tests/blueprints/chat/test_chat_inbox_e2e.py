# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Chromium: a staff member keeps the Messages inbox open while a customer writes; the
conversation and the sidebar badge appear without reloading the page (Socket.IO
``chat:activity`` → HTMX refresh), under the strict CSP."""

from __future__ import annotations

import pytest

from tests.support.chat_fixtures import chat_server, world  # noqa: F401
from tests.support.chat_fixtures import logged_in_page as _logged_in_page

pytestmark = pytest.mark.e2e


def test_inbox_updates_live_when_a_customer_writes(app, world, chat_server, new_page, screenshot_dir):
    apex = chat_server.url()
    host = chat_server.url("bella.localhost")
    staff = _logged_in_page(new_page, app, world.biz.owner_email, host)
    customer = _logged_in_page(new_page, app, world.customer_email, apex)

    staff.goto(f"{host}/dashboard/messages")
    assert "No messages yet" in staff.inner_text("#chat-inbox")
    staff.wait_for_selector("body[data-inbox-live='on']")

    customer.goto(f"{apex}/account/messages/{world.biz.tenant_id}/{world.booking_id}")
    customer.wait_for_selector("#chat[data-live='on']")
    customer.fill("#chat-body", "Can I move my appointment?")
    customer.click("#chat-form button[type=submit]")

    row = staff.wait_for_selector("li.db-inbox-item.unread:has-text('Can I move my appointment?')")
    assert "Cara Customer" in row.inner_text() and "1 unread" in row.inner_text()
    staff.wait_for_selector("#db-inbox-badge[data-unread='1']:not([hidden])")
    staff.screenshot(path=str(screenshot_dir / "chat-inbox.png"))

    link = f"/dashboard/bookings/{world.booking_id}/chat"
    assert row.query_selector(f"a[href='{link}']") is not None
    staff.goto(f"{host}{link}")  # (not a click: a live refresh may be swapping the list)
    staff.wait_for_selector("li.chat-msg.theirs:has-text('Can I move my appointment?')")
    staff.goto(f"{host}/dashboard/messages")  # read now: nothing unread left
    assert staff.get_attribute("#db-inbox-badge", "data-unread") == "0"
    assert staff.locator("li.db-inbox-item.unread").count() == 0
    for page in (customer, staff):
        assert not [p for p in page.problems if "Content Security Policy" in p or "Refused" in p], page.problems
