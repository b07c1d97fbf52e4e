"""The operator in Chromium: a platform admin signs in, resolves a reported review in the
moderation queue, then finds a business in the directory, suspends it and sees its storefront
say it is unavailable. At phone width the console pages never scroll sideways."""

from __future__ import annotations

import pytest

from app.community import moderation
from app.extensions import db
from app.reviews.queries import rating_summary
from app.reviews.service import create_review
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, make_business, make_user
from tests.helpers import pass_second_factor
from tests.reviews.support import visit
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (page.url, wide)


def test_an_admin_resolves_a_reported_review_and_suspends_a_business(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz = make_business("bella")
    reporter = make_user("reporter@example.com")
    with tenant_scope(biz.tenant_id):
        fake = create_review(visit(biz, "troll@example.com", index=0), rating=1, text="Scam salon, avoid!!!")
        create_review(visit(biz, "anna@example.com", index=1), rating=5, text="Lovely cut")
        moderation.report_content("review", fake.id, "fake", "They were never here", reporter_user_id=reporter)
        db.session.commit()
    make_user("root@plaza.test", is_platform_admin=True)
    port = int(live_server.rsplit(":", 1)[1])
    apex, shop = f"http://localhost:{port}", f"http://{biz.host(port)}"
    page = new_page()
    page.goto(f"{apex}/login?next=/admin/")
    page.fill("input[name=email]", "root@plaza.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    pass_second_factor(page)

    # The moderation queue: the review with its visit, hidden with a reason.
    page.get_by_role("link", name="Moderation").click()
    group = page.locator("#moderation-queue section").first
    expect(group).to_contain_text("Scam salon, avoid!!!")
    expect(group).to_contain_text("Haircut, visit in")
    expect(group).to_contain_text("They were never here")
    page.set_viewport_size({"width": 360, "height": 800})
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_folder() / "admin-moderation.png"), full_page=True)
    group.locator("select[name=action]").select_option("hide")
    group.locator("input[name=reason]").fill("Fake review: no such visit")
    group.get_by_role("button", name="Decide").click()
    expect(page.locator("#moderation-queue")).to_contain_text("Nothing is waiting")
    with tenant_scope(biz.tenant_id):
        summary = rating_summary()
        assert (summary.average, summary.count) == (5.0, 1)
    db.session.rollback()

    # The directory: find bella, give a reason to open it, suspend it.
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("link", name="Businesses").click()
    page.fill("input[name=q]", "bella")
    page.get_by_role("button", name="Filter").click()
    page.locator("#business-results").get_by_role("link", name="Bella").click()
    page.locator("#reason-form [name=reason]").fill("Reports of fake reviews")
    page.get_by_role("button", name="Open the record").click()
    expect(page.locator("h1")).to_have_text("Bella")
    sanctions = page.locator("#sanctions")
    sanctions.locator("select[name=kind]").select_option("suspend")
    sanctions.locator("textarea[name=reason]").fill("Fake reviews and scams reported by customers")
    sanctions.get_by_role("button", name="Apply").click()
    expect(page.locator("#admin-main")).to_contain_text("Suspended since")
    page.set_viewport_size({"width": 360, "height": 800})
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_folder() / "admin-business-suspended.png"), full_page=True)

    storefront = new_page()
    storefront.goto(f"{shop}/")
    expect(storefront.locator("#business-unavailable")).to_contain_text("Bella is unavailable")
