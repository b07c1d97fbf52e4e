# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Chromium, two browser contexts side by side: a customer (apex account) and a staff member
(business host) chat about a booking with socket.io-client, see each other online, typing,
read receipts, and a hostile message shown as text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.chat_fixtures import chat_server, world  # noqa: F401
from tests.support.chat_fixtures import logged_in_page as _logged_in_page

pytestmark = pytest.mark.e2e


def _wait_for_websocket(page, timeout: float = 15.0) -> None:
    """Poll (with CDP evaluation, which the page's CSP does not block) until the socket upgraded."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate("() => window.plazaChatSocket && window.plazaChatSocket.io.engine.transport.name") == "websocket":
            return
        page.wait_for_timeout(100)
    raise AssertionError("the chat socket never upgraded to WebSocket")


def test_customer_and_staff_chat_live_in_two_browsers(app, world, chat_server, new_page, screenshot_dir):
    apex = chat_server.url()
    host = chat_server.url("bella.localhost")
    customer = _logged_in_page(new_page, app, world.customer_email, apex)
    staff = _logged_in_page(new_page, app, world.biz.owner_email, host)

    customer.goto(f"{apex}/account/messages")
    customer.click(f"a[href='/account/messages/{world.biz.tenant_id}/{world.booking_id}']")
    staff.goto(f"{host}/dashboard/bookings/{world.booking_id}")
    staff.click("a[data-chat-link]")
    for page in (customer, staff):
        page.wait_for_selector("#chat[data-live='on']")
        _wait_for_websocket(page)  # upgraded from long-polling
    # presence both ways
    staff.wait_for_selector("#chat-presence[data-online='yes']")
    customer.wait_for_selector("#chat-presence[data-online='yes']")
    assert "The customer is online" in staff.inner_text("#chat-presence")

    # typing indicator, then a message over the socket
    customer.fill("#chat-body", "Hello! Is there parking nearby?")
    staff.wait_for_selector("#chat-typing:has-text('is typing')")
    customer.click("#chat-form button[type=submit]")
    staff.wait_for_selector("li.chat-msg.theirs:has-text('Is there parking nearby?')")
    # a message that arrived live shows its time like the server-rendered ones ("1 Dec, 07:43")
    live_time = staff.inner_text("li.chat-msg.theirs:has-text('Is there parking nearby?') time")
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}, \d{2}:\d{2}", live_time), live_time
    customer.wait_for_selector("li.chat-msg.mine:has-text('Is there parking nearby?')")  # acknowledged
    expect(customer.locator("#chat-body")).to_have_value("")  # cleared by the send acknowledgement
    # the staff page is open and visible: the customer sees "Read"
    customer.wait_for_selector("li.chat-msg.mine .chat-receipt:has-text('Read')")

    # a hostile reply is shown as text, never run and never processed by htmx
    staff.fill("#chat-body", '<img src=x onerror="window.pwned=1"> <b hx-get="/" hx-trigger="load">see https://example.com</b>')
    staff.click("#chat-form button[type=submit]")
    bubble = customer.wait_for_selector("li.chat-msg.theirs:has-text('onerror')")
    assert bubble.query_selector("img") is None and bubble.query_selector("b") is None
    assert bubble.query_selector("a[href='https://example.com'][rel~='noopener']") is not None
    assert customer.evaluate("window.pwned") is None
    assert customer.evaluate("document.getElementById('chat-messages').hasAttribute('hx-disable')")

    # an empty message gets a clear error, nothing sent
    customer.fill("#chat-body", "   ")
    customer.click("#chat-form button[type=submit]")
    customer.wait_for_selector("#chat-error:has-text('Write a message')")
    assert customer.locator("li.chat-msg").count() == 2

    staff.wait_for_selector("li.chat-msg.mine .chat-receipt:has-text('Read')")
    customer.screenshot(path=str(screenshot_dir / "chat-customer.png"))
    staff.screenshot(path=str(screenshot_dir / "chat-staff.png"))
    for page in (customer, staff):
        assert not [p for p in page.problems if "Content Security Policy" in p or "Refused" in p], page.problems


def test_chat_falls_back_to_long_polling_when_websockets_are_blocked(app, world, chat_server, new_page):
    apex = chat_server.url()
    host = chat_server.url("bella.localhost")
    customer = _logged_in_page(new_page, app, world.customer_email, apex)
    customer.add_init_script("window.WebSocket = undefined;")  # a browser/proxy where WebSockets fail
    staff = _logged_in_page(new_page, app, world.biz.owner_email, host)
    customer.goto(f"{apex}/account/messages/{world.biz.tenant_id}/{world.booking_id}")
    staff.goto(f"{host}/dashboard/bookings/{world.booking_id}/chat")
    for page in (customer, staff):
        page.wait_for_selector("#chat[data-live='on']")
    assert customer.evaluate("window.plazaChatSocket.io.engine.transport.name") == "polling"
    customer.fill("#chat-body", "Sent over long-polling")
    customer.click("#chat-form button[type=submit]")
    staff.wait_for_selector("li.chat-msg.theirs:has-text('Sent over long-polling')")
    staff.fill("#chat-body", "Received over long-polling")
    staff.click("#chat-form button[type=submit]")
    customer.wait_for_selector("li.chat-msg.theirs:has-text('Received over long-polling')")
    customer.wait_for_selector("li.chat-msg.mine .chat-receipt:has-text('Read')")
