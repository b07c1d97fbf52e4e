"""The broadcast wizard in Chromium at phone width: an admin sends a broadcast to the consenting
customers of one city through the three HTMX steps and watches the progress bar fill."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.notifications import preferences
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import PASSWORD, make_business, make_user
from tests.helpers import pass_second_factor
from tests.support.conftest_mail import run_jobs
from tests.support.notification_support import book, day_at
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

#: Nothing of the console's page reaches past the viewport (the site's top bar is the layout's own).
NO_SIDEWAYS_SCROLL = ("Array.from(document.querySelectorAll('#admin-main, #admin-main *'))"
                      ".every(e => e.getBoundingClientRect().right <= window.innerWidth + 1)")


def test_an_admin_sends_a_broadcast_to_one_citys_consenting_customers_in_chromium(live_server, ctx, new_page, mailbox):
    from playwright.sync_api import expect

    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        db.session.get(Tenant, bella.tenant_id).city = "Copenhagen"
        db.session.commit()
    alice, bob = make_user("alice@example.com", name="Alice"), make_user("bob@example.com", name="Bob")
    book(bella, day_at(3, 10), user_id=alice, email="alice@example.com")
    book(bella, day_at(3, 12), user_id=bob, email="bob@example.com")
    preferences.grant_consent(alice, method="signup checkbox", source="/signup-customer")
    make_user("root@plaza.test", is_platform_admin=True)
    db.session.commit()

    page = new_page()
    page.set_viewport_size({"width": 360, "height": 780})
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(f"{live_server}/login?next=/admin/broadcasts")
    page.fill("input[name=email]", "root@plaza.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    pass_second_factor(page, then="/admin/broadcasts")
    page.get_by_role("link", name="New broadcast").click()

    page.get_by_label("Customers who accept marketing from Plaza").check()
    page.get_by_role("button", name="Next: the message").click()
    expect(page.locator("#bc-wizard .field-error")).to_contain_text("never sent to all at once")  # 422, inline
    page.fill("input[name=city]", "Copenhagen")
    page.get_by_role("button", name="Next: the message").click()
    expect(page.locator(".bc-steps li.on")).to_contain_text("Message")
    page.fill("input[name=subject]", "Spring on Plaza")
    page.fill("textarea[name=body]", "New salons near you.")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.get_by_role("button", name="Next: preview").click()
    expect(page.locator("[data-recipients]")).to_have_text("1")
    expect(page.locator(".bc-sample")).to_contain_text("New salons near you.")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(screenshot_folder() / "admin-broadcast-preview.png"), full_page=True)
    page.get_by_role("button", name="Schedule the broadcast").click()
    expect(page.locator("[data-status]")).to_have_text("Scheduled")

    assert run_jobs(ctx) == []  # the worker sends it; the page polls its progress
    expect(page.locator("[data-status]")).to_have_text("Sent", timeout=15_000)
    expect(page.locator("#bc-progress")).to_contain_text("Sent to 1 of 1")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(screenshot_folder() / "admin-broadcast-sent.png"), full_page=True)
    assert not errors, errors
    assert len(mailbox.to("alice@example.com", "Spring on Plaza")) == 1 and mailbox.to("bob@example.com") == []
