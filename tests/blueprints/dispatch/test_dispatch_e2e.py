"""Dispatch now in Chromium, as people use it: a customer on a phone asks for a mobile car wash
at their location; the nearest operator (on a phone, online, sharing their position over the
socket) lets the offer lapse; it cascades to the next one, who accepts and sets off; the
customer watches every step arrive live. A thread stands in for the worker's periodic sweep."""

from __future__ import annotations

import threading

import pytest

from app.extensions import db
from app.platform_settings import PlatformSetting
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from app.uow import unit_of_work
from tests.dispatch.helpers import CITY, customer, make_on_demand
from tests.support.chat_fixtures import session_cookie
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

LAT, LON = CITY
WINDOW_SECONDS = 6
PHONE = {"width": 360, "height": 760}


def _phone(browser, app, email: str, url: str, lat: float, lon: float):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US",
                                  timezone_id="America/New_York", geolocation={"latitude": lat, "longitude": lon},
                                  permissions=["geolocation"])
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "session", "value": session_cookie(app, email), "url": url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    return context, page


def _sweeper(app, stop: threading.Event) -> None:
    from app.dispatch.tasks import sweep

    while not stop.wait(0.5):
        with app.app_context():
            try:
                with unit_of_work():
                    sweep()
            finally:
                db.session.remove()


def _no_sideways_scroll(page) -> bool:
    """The page's own block (form, status or operator panel) fits the 360 px phone."""
    return page.evaluate("""() => {
        const el = document.querySelector('#dispatch-status, #dispatch-panel, #now-form');
        const box = el.getBoundingClientRect();
        return box.left >= 0 && box.right <= 360 && el.scrollWidth <= el.clientWidth + 1;
    }""")


def test_a_car_wash_now_cascades_after_a_lapse_and_the_customer_watches_it_live(live_server, app, ctx, browser):
    from playwright.sync_api import expect

    with platform_scope("test"):
        db.session.add(PlatformSetting(key="dispatch.accept_seconds", value=WINDOW_SECONDS, updated_at=utcnow()))
        db.session.commit()
    make_on_demand("suds", ["car-wash"], [("first@suds.test", LAT + 0.004, LON), ("second@suds.test", LAT + 0.012, LON)])
    make_on_demand("sparkle", ["cleaning"], [("clara@sparkle.test", LAT, LON)])
    customer("casey@example.test")
    port = int(live_server.rsplit(":", 1)[1])
    apex, suds = f"http://localhost:{port}", f"http://suds.localhost:{port}"
    shots = screenshot_folder()
    stop = threading.Event()
    sweeper = threading.Thread(target=_sweeper, args=(app, stop), daemon=True)
    contexts = []
    try:
        ctx1, first = _phone(browser, app, "first@suds.test", suds, LAT + 0.004, LON)
        ctx2, second = _phone(browser, app, "second@suds.test", suds, LAT + 0.012, LON)
        ctx3, cust = _phone(browser, app, "casey@example.test", apex, LAT, LON)
        contexts += [ctx1, ctx2, ctx3]
        for page in (first, second):
            page.goto(f"{suds}/dashboard/dispatch")
            expect(page.locator(".dsp-state")).to_contain_text("You are online")
        expect(second.locator("[data-geo-status]")).to_contain_text("Sharing your location")
        sweeper.start()

        cust.goto(f"{apex}/now")
        cust.select_option("select[name=service]", "car-wash")
        cust.click("[data-use-location]")
        expect(cust.locator("[data-location-status]")).to_have_text("Location shared.")
        cust.fill("input[name=address_line]", "350 5th Ave, New York")
        assert _no_sideways_scroll(cust)
        cust.screenshot(path=str(shots / "dispatch-request.png"), full_page=True)
        cust.click("button[type=submit]")
        cust.wait_for_url("**/now/*")
        status = cust.locator("#dispatch-status")
        expect(status).to_contain_text("Asking First nearby")

        # The nearest operator's phone rings (pushed over the socket); they let it lapse.
        expect(first.locator(".dsp-offer")).to_contain_text("New job: Mobile car wash", timeout=5_000)
        expect(first.locator(".dsp-offer")).to_contain_text("350 5th Ave")
        assert _no_sideways_scroll(first)
        first.screenshot(path=str(shots / "dispatch-offer.png"), full_page=True)
        expect(second.locator(".dsp-offer")).to_have_count(0)

        # After the window it cascades to the next operator, and the customer sees it live.
        expect(second.locator(".dsp-offer")).to_be_visible(timeout=(WINDOW_SECONDS + 8) * 1000)
        expect(status).to_contain_text("Asking Second nearby", timeout=5_000)
        expect(first.locator(".dsp-offer")).to_have_count(0, timeout=12_000)
        second.click(".dsp-offer button:has-text('Accept')")
        expect(second.locator(".dsp-job")).to_contain_text("Status: accepted")
        expect(status).to_contain_text("Second accepted · arriving in about", timeout=5_000)
        expect(status.locator(".dsp-timeline li.current")).to_have_text("Accepted")
        cust.screenshot(path=str(shots / "dispatch-accepted.png"), full_page=True)

        second.click(".dsp-job button:has-text('On the way')")
        expect(second.locator(".dsp-job button")).to_have_text("Arrived")
        expect(status).to_contain_text("Second is on the way", timeout=5_000)
        assert _no_sideways_scroll(second) and _no_sideways_scroll(cust)
        second.screenshot(path=str(shots / "dispatch-operator.png"), full_page=True)
        cust.screenshot(path=str(shots / "dispatch-status.png"), full_page=True)
        for page in (first, second, cust):
            assert page.problems == []
    finally:
        stop.set()
        if sweeper.is_alive():
            sweeper.join(10)
        for c in contexts:
            c.close()
