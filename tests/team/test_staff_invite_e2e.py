"""Staff invitation in Chromium against a running server: the owner invites a stylist from
the staff page (over HTMX), the worker path emails the link to a real SMTP server, and the
stylist opens it in a second browser, chooses a password and lands on the dashboard."""

from __future__ import annotations

import re

import pytest

from app.outbox.relay import relay_outbox
from tests.factories import PASSWORD, make_business
from tests.support.conftest_mail import run_jobs, text_of

pytestmark = pytest.mark.e2e

INVITEE = "stylist@example.com"


def test_owner_invites_and_the_stylist_joins_in_chromium(app, live_server, ctx, new_page, mailbox):
    from playwright.sync_api import expect

    biz = make_business("bella", staff=2)
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    errors: list[str] = []

    owner = new_page()
    owner.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    owner.goto(f"{base}/login?next=/dashboard/staff/{biz.staff_ids[0]}")
    owner.fill("input[name=email]", biz.owner_email)
    owner.fill("input[name=password]", PASSWORD)
    owner.click("#login-form button[type=submit]")
    owner.wait_for_url(f"**/dashboard/staff/{biz.staff_ids[0]}")
    card = owner.locator("#staff-login")
    expect(card).to_contain_text("has no login yet")
    card.locator("input[name=email]").fill(INVITEE)
    card.locator("select[name=role]").select_option("staff")
    card.get_by_role("button", name="Send invitation").click()
    expect(owner.locator("#pending-invitation")).to_contain_text(INVITEE)

    relay_outbox()  # what the worker does after the commit
    assert run_jobs(app) == []
    assert mailbox.wait_until(lambda: bool(mailbox.to(INVITEE)), timeout=10)
    path = re.search(r"https?://[^/\s]+(/invite/\S+)", text_of(mailbox.to(INVITEE)[-1])).group(1)

    stylist = new_page()
    stylist.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    stylist.goto(f"{base}{path}")
    expect(stylist.locator("h1")).to_have_text("Join Bella")
    stylist.fill("#invite-signup-form input[name=name]", "Sam Stylist")
    stylist.fill("#invite-signup-form input[name=password]", "a long enough password")
    stylist.click("#invite-signup-form button[type=submit]")
    stylist.wait_for_url("**/dashboard/")
    expect(stylist.locator("body")).to_contain_text("Welcome to Bella")

    owner.goto(f"{base}/dashboard/staff")
    expect(owner.locator(f'[data-login="{biz.staff_ids[0]}"]')).to_contain_text("Logs in as staff")
    assert not errors, errors
