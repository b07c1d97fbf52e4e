# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Chromium: a guest (no account) on their booking's manage-link chat page and a staff member
on the dashboard chat talk live; the guest's page shows the staff's messages without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.blueprints.realtime.test_chat_guest import make_guest
from tests.support.chat_fixtures import chat_server, world  # noqa: F401
from tests.support.chat_fixtures import logged_in_page as _logged_in_page

pytestmark = pytest.mark.e2e


def test_guest_manage_page_chats_live_with_staff(app, world, chat_server, new_page):
    host = chat_server.url("bella.localhost")
    guest = make_guest(app, world.biz.tenant_id)
    staff = _logged_in_page(new_page, app, world.biz.owner_email, host)
    page = new_page()  # no cookies: a guest
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sent_urls: list[str] = []
    page.on("request", lambda r: sent_urls.append(r.url))

    page.goto(f"{host}/manage/{guest.token}")
    page.click("a[data-chat-link]")
    staff.goto(f"{host}/dashboard/bookings/{guest.booking_id}/chat")
    for p in (page, staff):
        p.wait_for_selector("#chat[data-live='on']")
    staff.wait_for_selector("#chat-presence[data-online='yes']")

    # staff posts; the guest's page shows it without a reload
    staff.fill("#chat-body", "Hi Gus, your chair is ready at 12.")
    staff.click("#chat-form button[type=submit]")
    page.wait_for_selector("li.chat-msg.theirs:has-text('your chair is ready')")
    staff.wait_for_selector("li.chat-msg.mine .chat-receipt:has-text('Read')")

    # the guest types and answers over the socket; staff sees both live
    page.fill("#chat-body", "Great, see you then!")
    staff.wait_for_selector("#chat-typing:has-text('is typing')")
    page.click("#chat-form button[type=submit]")
    staff.wait_for_selector("li.chat-msg.theirs:has-text('see you then')")
    page.wait_for_selector("li.chat-msg.mine:has-text('see you then')")
    expect(page.locator("#chat-body")).to_have_value("")  # cleared by the send acknowledgement

    # the token never travels in a Socket.IO URL (it is in the auth payload)
    assert not [u for u in sent_urls if "/socket.io/" in u and guest.token in u]
    assert not problems, problems
