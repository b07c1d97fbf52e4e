"""The request wizard in Chromium: a guest in New York ZIP 10001 asks for a leaking tap to be
fixed, with one photo, on a 360 px phone (no sideways scrolling at any step), confirms by email
and lands on the "request sent" page with the manage link. Screenshots
``docs/screenshots/request-wizard-*.png``."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.leads.models import JobRequest
from app.tenants.context import platform_scope
from tests.blueprints.requests.support import plumber, plumbing_questions
from tests.support.conftest_mail import run_jobs, text_of
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 860}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_guest_asks_for_a_leaking_tap_to_be_fixed_in_chromium(app, live_server, ctx, new_page, mailbox):
    plumber()
    q = plumbing_questions()
    shots = screenshot_folder()
    page = new_page(timezone_id="America/New_York")
    page.goto(f"{live_server}/requests/new")
    page.get_by_label("Plumbing").check()
    page.screenshot(path=str(shots / "request-wizard-desk.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Tell us about the job").wait_for()
    assert re.search(r"/requests/new/questions$", page.url)
    page.get_by_label("Leaking tap").check()
    page.get_by_label("How many taps?").fill("1")
    page.locator(f'input[name="q_{q["water_off"]}"][value="yes"]').check()
    page.locator(f'input[name="q_{q["photo"]}"]').set_input_files(
        {"name": "tap.png", "mimeType": "image/png", "buffer": png()})
    page.get_by_label("Describe the job").fill("The kitchen tap drips all night.")
    assert fits(page)
    page.screenshot(path=str(shots / "request-wizard-questions-360.png"), full_page=True)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Where?").wait_for()
    page.get_by_label("Postcode of the job").fill("90210")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("No provider covers 90210 yet.").wait_for()
    page.get_by_label("Postcode of the job").fill("10001")
    assert fits(page)
    page.screenshot(path=str(shots / "request-wizard-location-360.png"), full_page=True)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="When?").wait_for()
    page.get_by_label("Urgent (as soon as possible)").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Your details").wait_for()
    page.get_by_label("Your name").fill("Ada Guest")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Phone").fill("+1 212 555 0100")
    assert fits(page)
    page.screenshot(path=str(shots / "request-wizard-contact-360.png"), full_page=True)
    page.get_by_role("button", name="Send my request").click()

    page.get_by_role("heading", name="Check your email").wait_for()
    assert "ada@example.com" in page.inner_text("main")
    assert run_jobs(app) == []
    assert mailbox.wait_until(lambda: bool(mailbox.to("ada@example.com")), timeout=10)
    path = re.search(r"https?://[^/\s]+(/requests/confirm/\S+)", text_of(mailbox.to("ada@example.com")[-1])).group(1)
    page.goto(f"{live_server}{path}")
    page.get_by_role("button", name="Confirm my request").click()
    page.get_by_role("heading", name="Request sent").wait_for()
    assert fits(page)
    page.screenshot(path=str(shots / "request-wizard-sent-360.png"), full_page=True)
    link = page.get_by_role("link", name="Manage my request").get_attribute("href")
    db.session.expire_all()
    with platform_scope("test"):
        jr = db.session.scalar(sa.select(JobRequest))
    assert f"/requests/{jr.id}?t=" in link
    assert (jr.status, jr.postcode, jr.timing_kind) == ("open", "10001", "urgent")
    assert {"label": "What needs fixing?", "text": "Leaking tap"} in jr.summary
    assert {"label": "A photo of it", "text": "1 photo"} in jr.summary
    assert jr.details == "The kitchen tap drips all night."
