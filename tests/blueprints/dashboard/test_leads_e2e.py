"""A provider with credits works a lead in Chromium: the inbox shows it with its tier and credits,
live search narrows the list, the lead page says why it came, the manager claims it, quotes
$90–140 and writes in the job chat; inbox and lead page fit a 360 px phone without sideways
scrolling. Screenshots ``leads-inbox.png``, ``leads-lead.png``, ``leads-quoted.png`` and
``leads-360.png`` (``docs/screenshots/`` under ``make screenshots``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.leads.models import Lead
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, make_business
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

#: Fits horizontally: the page's content is no wider than the viewport.
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _seed():
    biz = make_business("fixit", currency="USD", timezone="America/New_York")
    add_member(biz.tenant_id, "mia@fixit.test", "manager", name="Mia Alvarez")
    give_credits(biz.tenant_id, 12)
    tap = make_lead(biz.tenant_id, make_request(), credits=3)
    make_lead(biz.tenant_id, make_request(email="eve@example.com", title="Deep clean a two-bedroom flat"),
              title="Deep clean a two-bedroom flat", category="cleaning", distance_km=7.5, tier=3, credits=4,
              summary=[{"label": "Rooms", "text": "Two bedrooms, one bathroom"}])
    return biz, tap


def test_a_provider_claims_quotes_and_chats_in_chromium(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz, tap = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = new_page(timezone_id="America/New_York")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{base}/login?next=/dashboard/leads")
    page.fill("input[name=email]", "mia@fixit.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/leads")
    results = page.locator("#lead-results")
    expect(results.locator(".ld-card")).to_have_count(2)
    expect(page.locator(".ld-balance")).to_contain_text("12 credits")
    expect(results.locator(".ld-tab.active")).to_contain_text("Available 2")
    page.screenshot(path=str(screenshot_folder() / "leads-inbox.png"), full_page=True)

    page.locator("#lead-q").press_sequentially("tap", delay=40)  # live search, no submit
    expect(results.locator(".ld-card")).to_have_count(1)
    card = results.locator(".ld-card").first
    expect(card).to_contain_text("Fix a leaking tap")
    expect(card).to_contain_text("Tier 2 · 3 credits")
    card.click()
    page.wait_for_url(f"**/dashboard/leads/{tap}")
    why = page.locator(".ld-why")
    expect(why).to_contain_text("The job's postcode is in your service area.")
    expect(why.locator(".ld-bar")).to_have_count(3)
    page.screenshot(path=str(screenshot_folder() / "leads-lead.png"), full_page=True)

    page.get_by_role("button", name="Claim for 3 credits").click()
    expect(page.locator(".ld-contact")).to_contain_text("dana@example.com")
    expect(page.locator(".ld-balance")).to_contain_text("9 credits")
    page.fill("#min_price", "90")
    page.fill("#max_price", "140")
    page.select_option("#duration_minutes", "120")
    page.fill("#message", "I can come Thursday morning and replace the cartridge.")
    page.get_by_role("button", name="Send quote").click()
    expect(page.locator(".ld-quote-line")).to_have_text("$90.00–$140.00, about 2 h")
    page.fill("#body", "Hi Dana, does 9am on Thursday suit you?")
    page.get_by_role("button", name="Send", exact=True).click()
    chat = page.locator("#lead-chat")
    expect(chat.locator(".ld-msg")).to_have_count(2)
    expect(chat).to_contain_text("does 9am on Thursday suit you?")
    page.screenshot(path=str(screenshot_folder() / "leads-quoted.png"), full_page=True)
    with tenant_scope(biz.tenant_id):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == tap))
        assert (lead.status, lead.quote_min_amount, lead.quote_max_amount) == ("quoted", 9000, 14000)
        assert lead.contacted_at is not None

    page.set_viewport_size({"width": 360, "height": 780})
    for path in ("/dashboard/leads?tab=quoted", f"/dashboard/leads/{tap}"):
        page.goto(base + path)
        assert page.evaluate(NO_SIDEWAYS_SCROLL), path
    page.goto(base + "/dashboard/leads?tab=quoted")
    page.screenshot(path=str(screenshot_folder() / "leads-360.png"), full_page=True)
    assert not errors, errors
