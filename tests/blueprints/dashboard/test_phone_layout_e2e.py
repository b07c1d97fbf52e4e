"""The dashboard on a 360×780 phone in Chromium: it opens on the day's bookings (above the
fold, the navigation in a bottom bar with a "More" menu), and EVERY dashboard page fits the
width without sideways scrolling.

The pages are discovered, not listed: every GET route of the app under ``/dashboard`` that
takes no parameters (from ``url_map``, so pages added later are covered), every link of the
dashboard's navigation, plus one booking page and the pages of one staff member and one
service. Non-HTML answers (CSV, fragments polled by HTMX) are skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from app.booking.service import Actor, CustomerInput, create_booking, transition
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import PASSWORD, make_business
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}

#: Long values on purpose: names, emails and notes are where narrow layouts break.
CUSTOMERS = [
    ("Maximiliane Schwarzenberg-Oppenheimer", "maximiliane.schwarzenberg-oppenheimer@example.com", "+4520123456",
     "Allergic to ammonia-based colour; bring the photos from last time"),
    ("Lars Jensen", "lars@example.com", "+4522334455", ""),
    ("Emma Hansen", "emma@example.com", "+4540506070", "First visit"),
]

#: JavaScript: the elements sticking out to the right of the viewport (for the failure message).
OVERFLOW_JS = """() => {
  const w = window.innerWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 0.5) {
      let inScroller = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if ((s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') && p.getBoundingClientRect().right <= w + 0.5) { inScroller = true; break; }
      }
      if (!inScroller) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: w, culprits: out.slice(0, 8)};
}"""


#: JavaScript: status, content type and start of the answer to a GET of ``path`` (redirects not followed).
FETCH_JS = """async (path) => {
  const r = await fetch(path, {redirect: 'manual', credentials: 'same-origin'});
  const text = r.status === 200 ? await r.text() : '';
  return {status: r.status, type: r.headers.get('content-type') || '', head: text.slice(0, 400).toLowerCase()};
}"""


def _morning_zone() -> str:
    """An IANA zone where it is now about 08:00, so "today" has bookings still to come."""
    offset = 8 - utcnow().hour
    if offset > 14:
        offset -= 24
    if offset < -12:
        offset += 24
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _seed():
    """Bella (with a long name), two staff, three services, and today's bookings (one pending)."""
    biz = make_business("bella", timezone=_morning_zone(), staff=2, requires_confirmation=True,
                        services=[("Women's cut & style", 60, 65000), ("Balayage with toner and blow-dry", 150, 189900),
                                  ("Men's cut", 30, 35000)])
    tz = zone(biz.timezone)
    today = utcnow().astimezone(tz).date()
    ids = []
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        tenant.name = "Bella Hair & Beauty Studio Nørrebro"  # long, as real names are
        for i, (hour, (name, email, phone, notes)) in enumerate(zip((10, 12, 14), CUSTOMERS, strict=True)):
            start = datetime.combine(today, time(hour), tzinfo=tz).astimezone(UTC)
            booking = create_booking(tenant, service_id=biz.service_ids[i % 3], staff_id=biz.staff_ids[i % 2],
                                     start=start, customer=CustomerInput(name, email, phone),
                                     customer_timezone=biz.timezone, notes=notes)
            if i:
                transition(booking, "confirm", Actor("staff"))
            ids.append(booking.id)
        db.session.commit()
    return biz, ids


def dashboard_paths(app) -> list[str]:
    """Every GET route under ``/dashboard`` that needs no parameter, from the app's url_map."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.rule.startswith("/dashboard"):
            out.append(rule.rule)
    return sorted(set(out))


@pytest.fixture
def phone(browser):
    # Not is_mobile: a mobile viewport widens itself to fit the page, which would hide the overflow.
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, has_touch=True,
                                  locale="en-GB", timezone_id="Europe/Copenhagen")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _login(page, base: str, email: str) -> None:
    page.goto(f"{base}/login?next=/dashboard/")
    page.fill("#login-form input[name=email]", email)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/**")


def test_dashboard_on_a_phone_opens_on_today_with_a_bottom_bar(live_server, ctx, phone):
    from playwright.sync_api import expect

    biz, _ids = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = phone
    _login(page, base, biz.owner_email)
    page.goto(f"{base}/dashboard/")
    first = page.locator(".db-booking").first
    expect(first).to_contain_text("Maximiliane")
    box = first.bounding_box()
    bar = page.locator("[data-bottom-bar]")
    expect(bar).to_be_visible()
    bar_box = bar.bounding_box()
    # The day's first booking starts above the fold and above the bottom bar; the bar sits at the bottom.
    assert box["y"] + 40 < bar_box["y"] <= PHONE["height"] - bar_box["height"] + 1, (box, bar_box)
    assert bar_box["y"] + bar_box["height"] >= PHONE["height"] - 1
    # The bar holds the few most used pages plus "More"; the rest is in the More menu.
    labels = [t.strip() for t in bar.locator("a:visible, button:visible").all_inner_texts()]
    assert 3 <= len(labels) <= 6 and labels[-1].startswith("More"), labels
    assert any("Today" in t or "Day" in t for t in labels) and any("Messages" in t for t in labels), labels
    services = page.locator(".db-nav a[href$='/dashboard/services']")
    expect(services).to_be_hidden()
    page.get_by_role("button", name="More").click()
    expect(services).to_be_visible()
    expect(page.locator("[data-more]")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#db-menu .db-nav a").first).to_be_focused()
    page.screenshot(path=str(screenshot_folder() / "dashboard-phone-menu.png"))
    page.keyboard.press("Escape")
    expect(services).to_be_hidden()
    page.screenshot(path=str(screenshot_folder() / "dashboard-phone.png"))


def test_more_menu_works_without_javascript(live_server, ctx, browser):
    """The "More" control is a link to the menu (``#db-menu``), opened by CSS ``:target``."""
    biz, _ids = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    try:
        page = context.new_page()
        _login(page, base, biz.owner_email)
        page.goto(f"{base}/dashboard/")
        services = page.locator(".db-nav a[href$='/dashboard/services']")
        assert not services.is_visible()
        page.locator("[data-bottom-bar] a[href='#db-menu']").click()
        assert services.is_visible()
        page.locator("#db-menu a[href='#']").first.click()
        assert not services.is_visible()
    finally:
        context.close()


def test_every_dashboard_page_fits_360_px(live_server, ctx, phone):
    biz, ids = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    page = phone
    _login(page, base, biz.owner_email)
    page.goto(f"{base}/dashboard/")
    nav = page.eval_on_selector_all(".db-nav a[href]", "els => els.map(a => new URL(a.href).pathname + new URL(a.href).search)")
    paths = dashboard_paths(ctx)
    assert "/dashboard/" in paths and "/dashboard/payments" in paths and len(paths) >= 8, paths
    extra = [f"/dashboard/bookings/{ids[0]}", f"/dashboard/staff/{biz.staff_ids[0]}",
             f"/dashboard/staff/{biz.staff_ids[0]}/hours", f"/dashboard/staff/{biz.staff_ids[0]}/time-off",
             f"/dashboard/services/{biz.service_ids[1]}", "/dashboard/?view=week"]
    todo = list(dict.fromkeys([*paths, *nav, *extra]))
    failures, visited = [], []
    for path in todo:
        answer = page.evaluate(FETCH_JS, path)
        if answer["status"] != 200 or not answer["type"].startswith("text/html") or "<html" not in answer["head"]:
            continue  # CSV downloads, HTMX fragments, redirects to elsewhere
        page.goto(base + path)
        page.wait_for_load_state("load")
        found = page.evaluate(OVERFLOW_JS)
        visited.append(path)
        if found["scroll"] > found["inner"] or found["inner"] != PHONE["width"]:
            failures.append((path, found))
            name = path.strip("/").replace("/", "_").replace("?", "_") or "home"
            page.screenshot(path=str(screenshot_folder() / f"phone-overflow-{name}.png"), full_page=True)
    assert len(visited) >= 12, visited
    assert not failures, "\n".join(f"{p}: scrollWidth {f['scroll']} > {f['inner']}: {f['culprits']}"
                                   for p, f in failures)
    # The week view on a phone is one day per row, and the pages kept their navigation.
    page.goto(f"{base}/dashboard/payments")
    assert page.locator("[data-bottom-bar]").is_visible()


def test_desk_keeps_the_sidebar(live_server, ctx, browser):
    """At 1280 px the navigation is the sidebar on the left of the content, no bottom bar."""
    biz, _ids = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    try:
        page = context.new_page()
        _login(page, base, biz.owner_email)
        page.goto(f"{base}/dashboard/")
        side = page.locator(".db-sidebar").bounding_box()
        content = page.locator(".db-content").bounding_box()
        assert side["x"] < content["x"] and abs(side["y"] - content["y"]) < 2
        assert page.locator(".db-nav a[href$='/dashboard/services']").is_visible()
        assert not page.get_by_role("button", name="More").is_visible()
    finally:
        context.close()
