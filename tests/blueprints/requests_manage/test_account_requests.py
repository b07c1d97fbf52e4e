"""The signed-in customer's dashboard of job requests: tabs active / completed / closed with
counts, spending by month on the jobs they booked, and the best-rated providers they used (their
own review's rating first, else the listing's); only their own requests."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.audit.service import AuditActor
from app.extensions import db
from app.formatting import format_money
from app.leads.confirm import confirm_quote
from app.leads.models import JobRequest
from app.marketplace.models import MarketplaceListing
from app.tenants.context import platform_scope
from app.uow import unit_of_work
from tests.factories import make_business, make_user
from tests.helpers import login_as
from tests.leads.customer_rows import make_lead, make_request

pytestmark = pytest.mark.integration

BASE = "http://localhost"


def _start(days: int) -> datetime:
    now = datetime.now(ZoneInfo("America/New_York"))
    return now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=days)


@pytest.fixture
def history(ctx):
    uid = make_user("cara@example.test")
    a = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    b = make_business("tapco", timezone="America/New_York", currency="USD", staff=1)
    with platform_scope("test: listings"):
        for tid, name, rating in ((a.tenant_id, "Fixit", 3.9), (b.tenant_id, "Tapco", 4.8)):
            db.session.add(MarketplaceListing(business_id=tid, slug=name.lower(), name=name, rating_average=rating,
                                              rating_count=10))
        db.session.flush()
    db.session.commit()
    booked_a = make_request(user_id=uid, title="Fix the tap")
    lead_a = make_lead(a.tenant_id, booked_a.id, low=9000, high=14000)
    booked_b = make_request(user_id=uid, title="Clean the flat")
    lead_b = make_lead(b.tenant_id, booked_b.id, low=5000, high=7000)
    for req, lead, days in ((booked_a, lead_a, 1), (booked_b, lead_b, 2)):
        with unit_of_work():
            confirm_quote(req.id, lead, _start(days), AuditActor(uid))
    make_request(user_id=uid, title="Hang three shelves")
    closed = make_request(user_id=uid, title="Paint the fence")
    with platform_scope("test: close"):
        db.session.get(JobRequest, closed.id).status = "closed"
        db.session.flush()
    db.session.commit()
    make_request(title="Someone else's job", email="zed@example.test")
    db.session.remove()
    return uid


def test_my_requests_in_tabs_with_spending_and_best_providers(client, history):
    login_as(client, "cara@example.test")
    page = client.get("/account/requests", base_url=BASE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hang three shelves" in html and "Fix the tap" not in html and "Someone else" not in html
    assert 'Active <span class="rm-count">1</span>' in html and 'Completed <span class="rm-count">2</span>' in html
    assert 'Closed <span class="rm-count">1</span>' in html
    months: dict[str, int] = {}
    for days, amount in ((1, 14000), (2, 7000)):  # each booking holds the top of its quote
        month = _start(days).astimezone(ZoneInfo("UTC")).strftime("%Y-%m")
        months[month] = months.get(month, 0) + amount
    for month, amount in months.items():
        named = datetime.strptime(month, "%Y-%m").strftime("%B %Y")  # the month in words: "November 2026"
        assert f'<tr data-month="{month}"><td>{named}</td><td>{format_money(amount, "USD")}</td>' in html
    top = max(months.values())
    for month, amount in months.items():  # each bar as long as its share of the biggest month (an SVG
        row = html.split(f'<tr data-month="{month}">')[1].split("</tr>")[0]  # attribute: the CSP blocks styles)
        assert f'<rect width="{max(1, math.ceil(100 * amount / top))}" height="10"/>' in row
    providers = html.split("Best-rated providers")[1]
    assert providers.index("Tapco") < providers.index("Fixit") and "4.8" in providers
    completed = client.get("/account/requests?tab=completed", base_url=BASE, headers={"HX-Request": "true"})
    text = completed.get_data(as_text=True)
    assert "Fix the tap" in text and "with Fixit" in text and "<html" not in text
    assert "Paint the fence" in client.get("/account/requests?tab=closed", base_url=BASE).get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_log_in(client, ctx):
    resp = client.get("/account/requests", base_url=BASE)
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_my_bookings_links_to_my_requests(client, ctx):
    make_user("cara@example.test")
    login_as(client, "cara@example.test")
    assert 'href="/account/requests"' in client.get("/account/bookings", base_url=BASE).get_data(as_text=True)
