"""The notification center and the service worker in Chromium against a running server:
the bell shows the unread count, the center marks everything read, the service worker
registers at the site root and shows a Web Push message it receives, all under the strict CSP."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.notifications import center
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def test_center_and_service_worker_push_in_chromium(live_server, ctx, new_page, screenshot_dir):
    from playwright.sync_api import expect

    user_id = make_user("alice@example.com", name="Alice Andersen")
    for i, type_key in enumerate(("booking_confirmed", "booking_rescheduled")):
        center.create_notification(user_id=user_id, type_key=type_key,
                                   audience="customer", subject_key=f"booking:{i}", url="/account/bookings",
                                   context={"service": "Haircut", "business": "Bella Hair Studio",
                                            "when": "Tuesday 10:00", "previous_when": "Monday 14:00"})
    db.session.commit()

    page = new_page()
    page.context.grant_permissions(["notifications"], origin=live_server)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{live_server}/login?next=/notifications/")
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/notifications/**")

    expect(page.locator("#notif-badge .notif-count")).to_have_text("2 unread")
    expect(page.locator(".notif-item.unread")).to_have_count(2)
    expect(page.locator(".notif-list")).to_contain_text("Booking moved")
    # times read in the reader's own zone (Copenhagen here), not the server's UTC
    shown = page.locator(".notif-item time").first
    iso = shown.get_attribute("datetime")
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/Copenhagen"))
    expect(shown).to_have_text(f"{local.day} {local:%b %Y, %H:%M}")
    page.screenshot(path=str(screenshot_dir / "notifications.png"), full_page=True)
    page.click("button[name=all]")
    expect(page.locator(".notif-item.unread")).to_have_count(0)
    expect(page.locator("#notif-badge .notif-count")).to_have_class("notif-count empty")

    # The service worker is installed for the whole site...
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{live_server}/"
    # ...and shows a push message delivered to it.
    cdp = page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda ev: registrations.extend(r["registrationId"] for r in ev["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert registrations
    payload = {"title": "Starting soon: Haircut", "body": "Haircut at Bella starts at 10:00", "url": "/notifications/",
               "tag": "booking:1", "count": 1}
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": registrations[-1],
                                                  "data": json.dumps(payload)})
    titles: list[str] = []
    deadline = time.monotonic() + 10
    while not titles and time.monotonic() < deadline:
        titles = page.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                               ".then(ns => ns.map(n => n.title + ' | ' + n.body))")
        if not titles:
            page.wait_for_timeout(200)
    assert titles == ["Starting soon: Haircut | Haircut at Bella starts at 10:00"]
    page.goto(f"{live_server}/notifications/preferences")
    page.screenshot(path=str(screenshot_dir / "notification-settings.png"), full_page=True)
    assert errors == []
