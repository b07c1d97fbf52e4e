"""Manual fulfilment in Chromium: a request nobody claimed reaches the queue (the sweep runs with
the clock moved past the claim window), a platform admin opens it, sees the candidate that let
it lapse and why, finds another provider by name and assigns it with a reason; that provider now
holds an offered lead. The pages fit a desk and a 360 px phone without sideways scrolling."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import run_on_platform
from app.leads.models import JobRequestStatus, Lead, LeadStatus
from app.leads.routing_tasks import route_request
from app.leads.sweeps import sweep
from app.tenants.context import platform_scope
from tests.factories import PASSWORD, make_user
from tests.helpers import pass_second_factor
from tests.leads.routing_factories import get_request, make_provider, make_request
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (page.url, wide)


def _shoot(page, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshot_folder() / f"fulfilment-{name}-desk.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 800})
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_folder() / f"fulfilment-{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_unclaimed_request_reaches_manual_fulfilment_and_an_admin_assigns_it(live_server, ctx, new_page):
    from playwright.sync_api import expect

    make_provider("slow-plumbing", service_postcodes=["10001"], rating=(4.6, 12), verified=True)
    fixer = make_provider("fixit-plumbing", postcode="10003", city="Manhattan", radius_km=None,
                          service_postcodes=["10003"])
    job_id = make_request(title="Fix a leaking kitchen tap")
    assert route_request(str(job_id)) == "routed"
    run_on_platform(sweep, get_request(job_id).routed_until + timedelta(minutes=1))  # nobody claimed in time
    assert get_request(job_id).status == JobRequestStatus.MANUAL

    make_user("root@plaza.test", is_platform_admin=True)
    apex = f"http://localhost:{int(live_server.rsplit(':', 1)[1])}"
    page = new_page(timezone_id="America/New_York")
    page.goto(f"{apex}/login?next=/admin/")
    page.fill("input[name=email]", "root@plaza.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    pass_second_factor(page)

    page.get_by_role("link", name="Fulfilment").click()
    item = page.locator(f"#jr-{job_id}")
    expect(item).to_contain_text("Fix a leaking kitchen tap")
    expect(item).to_contain_text("Slow-Plumbing")
    expect(item).to_contain_text("Service area")
    _shoot(page, "queue")

    item.get_by_role("link", name="Open and assign").click()
    expect(page.locator("h1")).to_have_text("Fix a leaking kitchen tap")
    expect(page.locator(".ff-round")).to_contain_text("Round 1")
    page.locator(".ff-cand summary").first.click()
    expect(page.locator(".ff-parts").first).to_contain_text("Verified")
    page.fill("#ff-q", "fixit")  # live search (HTMX) narrows the businesses
    expect(page.locator("#ff-search")).not_to_contain_text("Slow-Plumbing")
    page.locator("#ff-search label", has_text="Fixit-Plumbing").locator("input").check()
    page.fill("#ff-reason", "Phoned Fixit: they can go tomorrow")
    _shoot(page, "request")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".flash")).to_contain_text("Offered to the business")
    expect(page.locator("#ff-status")).to_contain_text("routed")
    expect(page.locator(".ff-leads")).to_contain_text("Fixit-Plumbing")

    with platform_scope("tests: the provider's lead"):
        lead = db.session.scalar(sa.select(Lead).where(Lead.job_request_id == job_id, Lead.tenant_id == fixer))
        assert (lead.status, lead.source) == (LeadStatus.OFFERED, "manual")
    db.session.rollback()
