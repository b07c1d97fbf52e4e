"""The demo business's board in Chromium after ``seed-demo``: this week and next are full of
bookings in every state (before, every board was empty)."""

from __future__ import annotations

import re

import pytest

from app.cli import DEMO_PASSWORD, seed_demo
from app.extensions import db
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e


def test_demo_board_is_lived_in(live_server, ctx, new_page):
    from playwright.sync_api import expect

    seed_demo()
    db.session.commit()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://bella.localhost:{port}"
    page = new_page()
    page.goto(f"{base}/login?next=/dashboard/")
    page.fill("input[name=email]", "owner@bella.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/**")
    page.goto(f"{base}/dashboard/?view=week&staff=all")
    board = page.locator("#bookings")
    expect(board.locator(".db-chip").nth(20)).to_be_visible()
    expect(board).to_contain_text("Sofie Jensen")
    page.screenshot(path=str(screenshot_folder() / "demo-week.png"), full_page=True)
    # Next week too, with upcoming bookings waiting for confirmation among them.
    page.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(r"date=\d{4}-\d{2}-\d{2}"))
    expect(board.locator(".db-chip").nth(20)).to_be_visible()
    expect(board.locator(".db-chip.s-pending").first).to_be_visible()
