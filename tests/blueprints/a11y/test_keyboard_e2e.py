"""A customer books on bella's storefront with the keyboard alone (Tab, Enter, Space, arrow
keys; never the mouse) in Chromium: focus is always visible, lands on the new day's heading
after the picker swaps in over HTMX, starts at the error summary of a refused form, and the
booking is made."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.blueprints.storefront.test_booking_e2e import seed_salon, tenant_url

pytestmark = pytest.mark.e2e

#: What the focused element looks like: its selector-independent description and whether a
#: focus indicator of at least 2 px (outline or box-shadow ring) is drawn around it.
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { tag: "BODY", visible: false, text: "" };
  const css = getComputedStyle(el);
  const outline = css.outlineStyle !== "none" && parseFloat(css.outlineWidth) >= 2;
  const ring = css.boxShadow && css.boxShadow !== "none";
  return { tag: el.tagName, cls: el.className, text: (el.innerText || el.value || "").trim().slice(0, 60),
           visible: (outline || ring) && el.matches(":focus-visible"), id: el.id };
}"""


def focused(page) -> dict:
    """The focused element's tag, class, text, id and whether its focus is visibly drawn."""
    return page.evaluate(FOCUS)


def tab_to(page, selector: str, most: int = 120) -> dict:
    """Press Tab until the element matching ``selector`` has focus; fail after ``most`` presses.
    Every element passed on the way must show visible focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["visible"], f"focus not visible on {now}"
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return now
    raise AssertionError(f"Tab never reached {selector}")


def test_a_customer_books_with_the_keyboard_only(ctx, live_server, new_page):
    from playwright.sync_api import expect

    biz = seed_salon()
    page = new_page("Europe/Copenhagen")
    page.goto(f"{tenant_url(live_server)}/")

    tab_to(page, f'[data-service="{biz.service_ids[1]}"] a.sf-book')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose a professional")).to_be_visible()
    tab_to(page, 'a[data-staff="any"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()

    # The day strip: Tab to today, arrow keys along the days, Enter swaps the picker in place.
    tab_to(page, ".sf-day.active")
    first_day = page.evaluate("document.activeElement.dataset.date")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    day = page.evaluate("document.activeElement.dataset.date")
    assert day and day > first_day
    assert focused(page)["visible"]
    page.keyboard.press("Enter")
    expect(page.locator(f'.sf-day.active[data-date="{day}"]')).to_be_visible()
    # Focus moved to the chosen day's heading, right before its times (not lost to the page).
    expect(page.locator(".sf-dayhead")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('.sf-slots a')")
    assert focused(page)["visible"]
    page.keyboard.press("ArrowRight")
    label = focused(page)["text"]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()

    # Sending the form empty: the page comes back with the error summary focused.
    tab_to(page, ".sf-form button[type=submit]")
    page.keyboard.press("Space")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    tab_to(page, "#name")
    page.keyboard.type("Keyboard Karen")
    tab_to(page, "#email")
    page.keyboard.type("karen@example.com")
    tab_to(page, "#phone")
    page.keyboard.type("20 30 40 50")
    page.keyboard.press("Enter")  # submits the form from a text field
    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    tab_to(page, ".sf-confirm-form button[value=confirm]")
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(page.locator(".sf-review-time")).to_contain_text(label)

    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        booked = db.session.execute(sa.select(Booking.status, Customer.name)
                                    .join(Customer, Customer.id == Booking.customer_id)).all()
    assert [tuple(row) for row in booked] == [("confirmed", "Keyboard Karen")]
