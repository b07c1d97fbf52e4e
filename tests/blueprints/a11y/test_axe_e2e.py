"""axe-core on every kind of page Plaza shows, on the demo data, at desk size and on a phone
(390x844), in English and in Danish: no ``serious`` or ``critical`` WCAG 2.x A/AA violation.

The customer books on bella's storefront through the real pages (storefront, professional,
slot picker, details, confirm, confirmation, manage, chat), then the other surfaces are opened
by URL as each kind of person: a signed-in customer, bella's owner (every dashboard page and
the notification center), a platform admin (the console), and anyone (marketplace, sign-up).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse, urlsplit

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.catalog.models import Service
from app.cli import DEMO_CUSTOMER, DEMO_PASSWORD, seed_demo
from app.extensions import db
from app.marketplace.tasks import reindex_all
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.browser import axe_violations, format_violations
from tests.factories import PASSWORD, make_user
from tests.helpers import pass_second_factor

pytestmark = pytest.mark.e2e

DESK = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

CUSTOMER_PAGES = ["/account/bookings", "/account/messages", "/account/favourites", "/account/sessions",
                  "/account/requests", "/notifications/", "/notifications/preferences"]
PUBLIC_PAGES = ["/", "/search?q=hair", "/signup", "/login", "/signup-customer", "/password/forgot", "/feed",
                "/new", "/now"]
STAFF_PAGES = ["/dashboard/", "/dashboard/?view=week&staff=all", "/dashboard/calendar", "/dashboard/bookings/new",
               "/dashboard/customers", "/dashboard/services", "/dashboard/services/new", "/dashboard/staff",
               "/dashboard/staff/new", "/dashboard/rules", "/dashboard/api-tokens", "/dashboard/messages",
               "/dashboard/business", "/dashboard/reviews", "/dashboard/metrics", "/dashboard/audit",
               "/dashboard/payments", "/dashboard/billing", "/dashboard/credits", "/dashboard/leads",
               "/dashboard/disputes", "/dashboard/verification", "/dashboard/posts", "/dashboard/reports",
               "/dashboard/dispatch", "/notifications/", "/notifications/sent", "/notifications/announce",
               "/notifications/preferences"]
ADMIN_PAGES = ["/admin/", "/admin/businesses", "/admin/people", "/admin/audit", "/admin/broadcasts",
               "/admin/broadcasts/new", "/admin/disputes", "/admin/fulfilment", "/admin/metrics",
               "/admin/moderation", "/admin/questions", "/admin/settings", "/admin/verification"]


class Audit:
    """Visits pages in one context and keeps every blocking violation found, by URL."""

    def __init__(self, page) -> None:
        self.page = page
        self.findings: list[tuple[str, dict]] = []
        self.visited: list[str] = []

    def check(self) -> None:
        """Audit the page as it is now."""
        self.visited.append(self.page.url)
        self.findings += [(self.page.url, v) for v in axe_violations(self.page)]

    def visit(self, url: str) -> None:
        """Open ``url`` (any status) and audit it."""
        self.page.goto(url)
        self.check()


def log_in(page, base: str, email: str, password: str, then: str) -> None:
    """Sign in through the real login page on ``base`` and wait to leave it."""
    page.goto(f"{base}/login?next={then}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def book_on_storefront(audit: Audit, bella: str, service_id) -> str:
    """Book bella's service through every step, auditing each; returns the manage URL."""
    from playwright.sync_api import expect

    page = audit.page
    audit.visit(f"{bella}/")
    page.locator(f'[data-service="{service_id}"] a.sf-book').click()
    page.wait_for_url("**/book/**")
    audit.check()
    page.locator('a[data-staff="any"]').click()
    expect(page.locator(".sf-slots a").first).to_be_visible()
    audit.check()
    page.locator(".sf-day:not(.empty)").nth(1).click()  # an HTMX swap of the picker
    expect(page.locator(".sf-day.active")).to_be_visible()
    page.locator(".sf-slots a").first.click()
    expect(page.locator("#name")).to_be_visible()
    audit.check()
    page.locator(".sf-form button[type=submit]").click()  # empty: the inline errors
    expect(page.locator(".sf-inline-error")).to_be_visible()
    audit.check()
    page.fill("#name", "Emma Sørensen")
    page.fill("#email", "emma@example.com")
    page.fill("#phone", "20 30 40 50")
    page.locator(".sf-form button[type=submit]").click()
    expect(page.locator(".sf-confirm-form")).to_be_visible()
    audit.check()
    page.locator(".sf-confirm-form button[value=confirm]").click()
    expect(page.locator(".sf-manage-link")).to_contain_text("/manage/")
    audit.check()
    return page.locator(".sf-manage-link").inner_text().strip()


SIZES = pytest.mark.parametrize(("viewport", "language"), [(DESK, "en-GB"), (PHONE, "da-DK")],
                                ids=["desk-english", "phone-danish"])
#: Thirty pages audited one after the other take a few minutes on a busy 2-core machine.
SLOW = pytest.mark.timeout(900)


@pytest.fixture
def demo(live_server, ctx) -> dict:
    """The demo data (``seed-demo`` and the search's read model), a platform admin, and the hosts."""
    seed_demo()
    make_user("a11y-admin@plaza.test", is_platform_admin=True)
    db.session.commit()
    reindex_all()
    bella = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "bella"))
    with tenant_scope(bella.id):
        service_id = db.session.scalars(sa.select(Service.id).order_by(Service.position)).first()
        booking_id = db.session.scalars(sa.select(Booking.id).order_by(Booking.starts_at.desc())).first()
        customer_id = db.session.scalar(sa.select(Booking.customer_id).where(Booking.id == booking_id))
    db.session.rollback()
    port = urlparse(live_server).port
    return {"apex": f"http://localhost:{port}", "bella": f"http://bella.localhost:{port}", "service_id": service_id,
            "booking_id": booking_id, "customer_id": customer_id}


def audit_in_new_context(browser, viewport: dict, language: str) -> Audit:
    """A fresh context at ``viewport`` whose browser language is ``language``."""
    context = browser.new_context(viewport=viewport, locale=language, timezone_id="Europe/Copenhagen")
    context.set_default_timeout(15_000)
    return Audit(context.new_page())


def assert_no_findings(audit: Audit, least: int) -> None:
    """Every page was audited (at least ``least``) and none had a blocking violation.

    With ``A11Y_REPORT=<file>`` each audited page is also appended to that file as one JSON line
    ``{"page", "size", "rules": {rule id: offending nodes}}`` (docs/accessibility.md's table)."""
    if os.environ.get("A11Y_REPORT"):
        size = "{width}x{height}".format(**audit.page.viewport_size)
        with open(os.environ["A11Y_REPORT"], "a", encoding="utf-8") as out:  # noqa: PTH123 - a report file
            for url in audit.visited:
                rules: dict[str, int] = {}
                for seen, v in audit.findings:
                    if seen == url:
                        rules[v["id"]] = rules.get(v["id"], 0) + len(v["nodes"])
                page = urlsplit(url)
                out.write(json.dumps({"page": f"{page.hostname}{page.path}", "size": size, "rules": rules}) + "\n")
    assert len(audit.visited) >= least, audit.visited
    assert not audit.findings, f"axe on {len(audit.visited)} pages:\n" + format_violations(audit.findings)


@SLOW
@SIZES
def test_a_guest_books_and_browses_without_axe_violations(demo, browser, viewport, language):
    guest = audit_in_new_context(browser, viewport, language)
    manage = book_on_storefront(guest, demo["bella"], demo["service_id"])
    for url in (manage, manage.rstrip("/") + "/chat", f"{demo['bella']}/reviews"):
        guest.visit(url)
    for path in PUBLIC_PAGES:
        guest.visit(demo["apex"] + path)
    assert_no_findings(guest, 6 + 3 + len(PUBLIC_PAGES))


@SIZES
def test_a_customers_account_pages_have_no_axe_violations(demo, browser, viewport, language):
    customer = audit_in_new_context(browser, viewport, language)
    log_in(customer.page, demo["apex"], DEMO_CUSTOMER, DEMO_PASSWORD, "/account/bookings")
    for path in CUSTOMER_PAGES:
        customer.visit(demo["apex"] + path)
    assert_no_findings(customer, len(CUSTOMER_PAGES))


@SLOW
@SIZES
def test_every_dashboard_page_has_no_axe_violations(demo, browser, viewport, language):
    staff = audit_in_new_context(browser, viewport, language)
    log_in(staff.page, demo["bella"], "owner@bella.test", DEMO_PASSWORD, "/dashboard/")
    for path in [*STAFF_PAGES, f"/dashboard/bookings/{demo['booking_id']}",
                 f"/dashboard/customers/{demo['customer_id']}"]:
        staff.visit(demo["bella"] + path)
    assert_no_findings(staff, len(STAFF_PAGES) + 2)


@SIZES
def test_the_console_has_no_axe_violations(demo, browser, viewport, language):
    admin = audit_in_new_context(browser, viewport, language)
    admin.page.goto(f"{demo['apex']}/login?next=/admin/")
    admin.page.fill("input[name=email]", "a11y-admin@plaza.test")
    admin.page.fill("input[name=password]", PASSWORD)
    admin.page.click("#login-form button[type=submit]")
    pass_second_factor(admin.page)
    for path in ADMIN_PAGES:
        admin.visit(demo["apex"] + path)
    assert_no_findings(admin, len(ADMIN_PAGES))
