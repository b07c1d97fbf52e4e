"""In Chromium against a running server, on a 360 px phone: a customer opens a business's
profile, saves it as a favourite (HTMX), reads its news, messages it, and sees the staff's reply
arrive live (Socket.IO) while the owner answers from the inbox on a desk. No page scrolls
sideways. Screenshots: ``community_profile.png`` and ``community_inquiry.png``."""

from __future__ import annotations

import pytest

from app.community import posts
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, make_business, make_user
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _login(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"**{next_path}*")


def test_a_customer_saves_reads_news_and_talks_live_with_the_business(live_server, ctx, new_page):
    from playwright.sync_api import expect

    biz = make_business("bella")
    make_user("cara@example.com", name="Cara Customer")
    with tenant_scope(biz.tenant_id):
        posts.create_post("Autumn colours are here: 20% off balayage until Friday.", author_user_id=None)
        db.session.commit()
    db.session.remove()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"

    phone = new_page()
    phone.set_viewport_size(PHONE)
    problems: list[str] = []
    phone.on("pageerror", lambda e: problems.append(str(e)))
    _login(phone, base, "cara@example.com", "/")
    expect(phone.locator("#profile-posts")).to_contain_text("20% off balayage")
    heart = phone.locator("[data-favourite=bella] button")
    expect(heart).to_have_attribute("aria-pressed", "false")
    heart.click()
    expect(phone.locator("[data-favourite=bella] button")).to_have_attribute("aria-pressed", "true")
    assert _fits(phone)
    phone.screenshot(path=str(screenshot_folder() / "community_profile.png"), full_page=True)

    _login(phone, f"http://localhost:{port}", "cara@example.com", "/account/favourites")  # the apex, signed in
    expect(phone.locator("main")).to_contain_text("Bella")
    expect(phone.locator(".topbar")).to_contain_text("Log out")
    assert _fits(phone)
    phone.goto(f"{base}/")

    phone.click("text=Message Bella")
    phone.wait_for_url("**/message")
    assert _fits(phone)
    phone.fill("textarea[name=body]", "Hi! Do you have time for a balayage on Thursday?")
    phone.click("#inquiry button[type=submit]")
    phone.wait_for_url("**/inquiries/**")
    expect(phone.locator("#chat-messages")).to_contain_text("balayage on Thursday")
    assert _fits(phone)

    desk = new_page()
    _login(desk, base, biz.owner_email, "/dashboard/messages")
    desk.click("text=Question before booking")
    desk.wait_for_url("**/dashboard/inquiries/**")
    expect(desk.locator("#chat-messages")).to_contain_text("balayage on Thursday")
    desk.fill("#chat-body", "Yes, 14:00 works. Book it online and we'll see you then!")
    desk.click("#chat-form button[type=submit]")

    expect(phone.locator("#chat-messages")).to_contain_text("14:00 works", timeout=15_000)  # live, no reload
    assert _fits(phone)
    phone.screenshot(path=str(screenshot_folder() / "community_inquiry.png"), full_page=True)
    assert problems == []
