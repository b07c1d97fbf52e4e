"""The installable app in Chromium at 390x844: Chromium finds bella's storefront, its dashboard
and the apex installable; a stylist reads today's and tomorrow's bookings offline (marked with
when they were fetched) and an action taken offline is refused and writes nothing; a Danish
customer opens the confirmation and manage page offline; a new release takes over on the next
page and says so, with the new release's caches only.

Each test runs its own server: "offline" is the browser offline AND the server stopped (Chromium's
offline emulation does not reach a service worker's own fetches), and a new release is the same
port served again with another ``RELEASE``.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.booking.models import Booking
from app.booking.service import CustomerInput, create_booking, manage_token
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.factories import PASSWORD, make_business
from tests.support.servers import free_port, running_gunicorn, start_gunicorn

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def phone(browser, locale: str = "en-GB"):
    """A new page in a fresh 390x844 context (Copenhagen time, ``locale``)."""
    context = browser.new_context(viewport=PHONE, locale=locale, timezone_id="Europe/Copenhagen",
                                  extra_http_headers={"Accept-Language": locale})
    context.set_default_timeout(30_000)
    return context.new_page()


@contextmanager
def installed_profile(browser, folder: Path) -> Iterator:
    """A 390x844 Chromium context with a profile on disk in ``folder``: Chromium never offers to
    install from an incognito context (what ``browser.new_context`` makes)."""
    context = browser.browser_type.launch_persistent_context(
        str(folder), executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True, viewport=PHONE,
        locale="en-GB", timezone_id="Europe/Copenhagen")
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


def ready(server):
    """Wait until the server's worker answers (it boots after the port opens); returns ``server``."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=10) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def until(page, script: str, seconds: float = 30) -> None:
    """Wait until ``script`` (a JavaScript expression, maybe a promise) is truthy in the page
    (evaluated over CDP: the CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {script}"
        page.wait_for_timeout(200)


def controlled(page) -> None:
    """Wait until the service worker controls the page (the first visit installs it)."""
    until(page, "navigator.serviceWorker.controller !== null")


def installability_errors(page) -> list:
    """Chromium's installability errors for the page (CDP), once its manifest has been read."""
    cdp = page.context.new_cdp_session(page)
    deadline = time.monotonic() + 15
    while True:
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        if not errors or time.monotonic() > deadline:
            return errors
        page.wait_for_timeout(300)


def cache_names(page) -> list[str]:
    return page.evaluate("caches.keys()")


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login?next=/dashboard/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/**")


#: Time zones around the world: at any moment one of them is in its morning.
ZONES = ("Pacific/Kiritimati", "Pacific/Auckland", "Asia/Tokyo", "Asia/Kolkata", "Europe/Copenhagen",
         "America/Sao_Paulo", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu")
ALL_DAY = {d: [("00:00", "23:59")] for d in range(7)}


def morning_zone() -> str:
    """A time zone where it is now between 02:00 and 12:00, so this afternoon is still ahead."""
    return next(z for z in ZONES if 2 <= utcnow().astimezone(zone(z)).hour < 12)


def book(biz, day_offset: int, hour: int, name: str) -> Booking:
    """A committed booking ``day_offset`` days from today at ``hour`` (the business's time)."""
    tz = zone(biz.timezone)
    start = datetime.combine(utcnow().astimezone(tz).date() + timedelta(days=day_offset), clock(hour), tzinfo=tz)
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=biz.staff_ids[0], start=start,
                                 customer=CustomerInput(name, f"{name.split()[0].lower()}@example.com", "+4520304050"),
                                 customer_timezone=biz.timezone)
        db.session.commit()
        return booking


def test_bella_its_dashboard_and_the_apex_are_installable(ctx, services, browser, screenshot_dir, tmp_path):
    biz = make_business("bella")
    with running_gunicorn(services) as server, installed_profile(browser, tmp_path / "profile") as context:
        ready(server)
        page = context.new_page()
        page.goto(server.url(biz.host()) + "/")
        controlled(page)
        assert installability_errors(page) == []
        page.screenshot(path=str(screenshot_dir / "pwa-storefront.png"))

        log_in(page, server.url(biz.host()), biz.owner_email)
        expect(page.locator('link[rel="manifest"]')).to_have_attribute("href", "/dashboard/manifest.webmanifest")
        assert installability_errors(page) == []

        apex = context.new_page()
        apex.goto(server.url() + "/")
        controlled(apex)
        assert installability_errors(apex) == []
        # One worker per host: the apex's is its own, for the whole site.
        assert apex.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == server.url() + "/"


def test_a_stylist_reads_today_and_tomorrow_offline_and_cannot_act(ctx, services, browser, screenshot_dir):
    biz = make_business("bella", requires_confirmation=True, timezone=morning_zone(), hours=ALL_DAY)
    book(biz, 0, 14, "Sofie Nielsen")
    pending = book(biz, 0, 16, "Lars Jensen")
    book(biz, 1, 11, "Emma Hansen")
    server = ready(start_gunicorn(services))
    try:
        base = server.url(biz.host())
        page = phone(browser)
        log_in(page, base, biz.owner_email)
        page.goto(f"{base}/dashboard/?view=day")
        controlled(page)
        page.reload()  # this visit goes through the worker, which keeps a copy (and the next day's)
        expect(page.locator("#bookings")).to_contain_text("Sofie Nielsen")
        until(page, """caches.keys().then(ks => Promise.all(ks.filter(k => k.startsWith('plaza-pages-'))
            .map(k => caches.open(k).then(c => c.keys())))).then(ls => ls.flat().length >= 3)""")
    finally:
        server.stop()
    page.context.set_offline(True)

    page.reload()
    note = page.locator("[data-pwa-offline-note]")
    expect(note).to_have_text(re.compile(r"^Offline — as fetched at \d\d:\d\d$"))
    expect(page.locator("#bookings")).to_contain_text("Sofie Nielsen")
    expect(page.locator("#bookings")).to_contain_text("Lars Jensen")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "pwa-dashboard-offline.png"))

    # An action offline: refused with a message, nothing written, nothing queued.
    page.locator(".db-booking.s-pending").first.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flashes")).to_contain_text("You are offline: nothing was saved.")
    page.screenshot(path=str(screenshot_dir / "pwa-dashboard-offline-refused.png"))
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(Booking.status).where(Booking.id == pending.id)) == "pending"

    # Tomorrow was kept too: the next-day arrow opens it from the kept copy.
    page.locator('#bookings a[aria-label^="Next"]').click()
    expect(page.locator("#bookings")).to_contain_text("Emma Hansen")
    expect(page.locator("[data-pwa-offline-note]")).to_be_visible()


def test_a_danish_customer_opens_the_confirmation_and_manage_page_offline(ctx, services, browser, screenshot_dir):
    biz = make_business("bella")
    booking = book(biz, 3, 10, "Emma Sørensen")
    with tenant_scope(biz.tenant_id):
        token = manage_token(db.session.get(Booking, (biz.tenant_id, booking.id)))
    server = ready(start_gunicorn(services))
    try:
        base = server.url(biz.host())
        page = phone(browser, locale="da-DK")
        page.goto(f"{base}/booked/{token}")
        controlled(page)
        page.reload()
        page.goto(f"{base}/manage/{token}")
        expect(page.locator("main")).to_contain_text("10.00")  # the booking at 10:00, the Danish way
    finally:
        server.stop()
    page.context.set_offline(True)

    for path in (f"/booked/{token}", f"/manage/{token}"):
        page.goto(base + path)
        expect(page.locator("main")).to_contain_text("Haircut")
        expect(page.locator("main")).to_contain_text("10.00")
        # Danish words, the 24-hour clock with a full stop: "Offline — hentet 14.05".
        expect(page.locator("[data-pwa-offline-note]")).to_have_text(re.compile(r"^Offline — hentet \d\d\.\d\d$"))
    page.screenshot(path=str(screenshot_dir / "pwa-manage-offline.png"))

    # A page never opened: the offline page, in bella's style and in Danish.
    page.goto(f"{base}/reviews")
    expect(page.get_by_role("heading", name="Du er offline")).to_be_visible()
    expect(page.locator(".pwa-brand-name")).to_have_text("Bella")
    page.screenshot(path=str(screenshot_dir / "pwa-offline-page.png"))


def test_a_new_release_takes_over_on_the_next_page_and_says_so(ctx, services, browser):
    biz = make_business("bella")
    port = free_port()
    page = phone(browser)
    with running_gunicorn(services, port=port, env={"RELEASE": "release-one"}) as server:
        ready(server)
        base = server.url(biz.host())
        page.goto(base + "/")
        controlled(page)
        until(page, "caches.keys().then(ks => ks.some(k => k.endsWith('release-one')))")
        until(page, "localStorage.getItem('plaza:release') === 'release-one'")
    with running_gunicorn(services, port=port, env={"RELEASE": "release-two"}) as again:
        ready(again)
        # The next page: the browser finds the new worker, which installs this release's app
        # shell, takes over, drops the old release's caches; the page says so, once.
        page.goto(base + "/")
        expect(page.locator("[data-pwa-toast]")).to_have_text("Plaza was updated.", timeout=30_000)
        until(page, "caches.keys().then(ks => ks.length > 0 && ks.every(k => !k.startsWith('plaza-') || "
                    "k.endsWith('release-two')))")
        names = cache_names(page)
        assert any(n.startswith("plaza-precache") for n in names), names
        assert page.evaluate("""new Promise(done => { const c = new MessageChannel();
            c.port1.onmessage = e => done(e.data.release);
            navigator.serviceWorker.controller.postMessage({type: 'plaza:release'}, [c.port2]); })""") == "release-two"
        page.goto(base + "/")
        expect(page.locator("[data-pwa-toast]")).to_have_count(0)  # said once
