"""In Chromium against a running server talking to localstripe: a customer opens a dispute with
a photo from "my bookings" on a 360 px phone, the business answers from its dashboard, a platform
admin decides a partial refund in the console, and both sides see the outcome. Screenshots:
``dispute_customer.png``, ``dispute_admin.png``."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.extensions import db
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from tests.factories import PASSWORD, make_user
from tests.helpers import pass_second_factor
from tests.payments.test_payments import (  # noqa: F401 - fixtures used by name
    _smtp,
    book_direct,
    local_start,
    localstripe,
    pay,
    setup_business,
    stripe_on,
)
from tests.support.screenshots import screenshot_folder
from tests.support.servers import running_gunicorn

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def _fits(page) -> bool:
    """Nothing of the dispute page's own content is wider than the screen. (The apex's shared header
    nav overflows 360 px on every signed-in apex page, "my bookings" included: not this page's.)"""
    return page.evaluate("""[...document.querySelectorAll('.dp-page, .dp-page *')]
        .every(e => e.getBoundingClientRect().right <= window.innerWidth + 1)""")


def _login(page, base: str, email: str, next_path: str) -> None:
    page.set_default_timeout(30_000)  # a loaded CI machine
    page.goto(f"{base}/login?next={next_path}", wait_until="domcontentloaded")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    if next_path.startswith("/admin"):
        pass_second_factor(page, then=next_path)  # a new platform admin enrols the second factor first
    page.wait_for_url(f"**{next_path}*")


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


def test_dispute_with_a_photo_answered_and_decided_as_a_partial_refund(services, ctx, stripe_on, new_page):  # noqa: F811
    from playwright.sync_api import expect

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, _ = book_direct(biz, local_start(3, 10))
    pay(biz, bid)
    make_user("ann@example.com", name="Ann Customer")
    make_user("root@plaza.test", is_platform_admin=True)
    db.session.remove()
    with running_gunicorn(services, env=dict(stripe_on)) as server:
        port = server.port
        apex, shop = f"http://localhost:{port}", f"http://{biz.host(port)}"

        phone = new_page()
        phone.set_viewport_size(PHONE)
        _login(phone, apex, "ann@example.com", "/account/bookings")
        phone.click("text=Problem with this booking?")
        phone.check("input[name=kind][value=dispute]")
        phone.check("input[name=reason][value=poor_quality]")
        phone.fill("#description", "The colour washed out after one day.")
        phone.set_input_files("#dp-files", files=[{"name": "colour.jpg", "mimeType": "image/jpeg",
                                                    "buffer": _photo()}])
        assert _fits(phone)
        phone.click(".dp-form button[type=submit]")
        phone.wait_for_url("**/account/cases/**")
        expect(phone.locator(".dp-status")).to_have_text("Awaiting business")
        expect(phone.locator(".dp-files img")).to_have_count(1)
        phone.wait_for_function("document.querySelector('.dp-files img').naturalWidth === 64")  # served to its owner
        case_url = phone.url
        assert _fits(phone)

        desk = new_page()
        _login(desk, shop, biz.owner_email, "/dashboard/disputes")
        desk.click("text=Ann Customer")
        desk.fill("#dp-answer", "We followed the aftercare sheet with her.")
        desk.click("button[value=answer]")
        expect(desk.locator(".dp-status")).to_have_text("Escalated")

        admin = new_page()
        _login(admin, apex, "root@plaza.test", "/admin/disputes")
        admin.click("text=Bella")
        expect(admin.locator("#dp-case-block")).to_contain_text("We followed the aftercare sheet")
        admin.check("input[name=decision][value=partial_refund]")
        admin.fill("#dp-amount", "200")
        admin.fill("#dp-reason", "The colour faded early; part of the price is refunded.")
        admin.click(".dp-form button[type=submit]")
        expect(admin.locator(".dp-outcome")).to_contain_text("Partial refund")
        admin.screenshot(path=str(screenshot_folder() / "dispute_admin.png"), full_page=True)

        phone.goto(case_url)
        expect(phone.locator(".dp-outcome")).to_contain_text("Partial refund")
        expect(phone.locator(".dp-outcome")).to_contain_text("200")
        assert _fits(phone)
        phone.screenshot(path=str(screenshot_folder() / "dispute_customer.png"), full_page=True)
        desk.reload()
        expect(desk.locator(".dp-outcome")).to_contain_text("Partial refund")
