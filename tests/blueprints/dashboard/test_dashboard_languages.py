"""The business dashboard in the reader's language: a Danish browser gets the calendar, the
bookings board, a booking, customers, services, staff, settings and billing in Danish with Danish
formats (weekday and month names, 24-hour "14.30", "649,00 kr."), and no English left in the
page's main content; an English browser gets the same pages in English.

Each test logs in as Bella's owner through the Flask test client on ``bella.localhost`` and
sends the browser's ``Accept-Language``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest

from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import make_business
from tests.helpers import login_as

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"
#: Danish weekday (Monday first) and month names, written out here rather than taken from the
#: code under test.
DA_DAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
DA_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
#: Pages of the dashboard a Danish reader opens (the booking's own page is added per test).
PAGES = ["/dashboard/?view=day&date={day}", "/dashboard/?view=week&date={day}", "/dashboard/calendar?date={day}",
         "/dashboard/calendar?view=week&date={day}", "/dashboard/bookings/new?date={day}", "/dashboard/customers",
         "/dashboard/services", "/dashboard/services/new", "/dashboard/staff", "/dashboard/rules",
         "/dashboard/api-tokens", "/dashboard/business", "/dashboard/reviews", "/dashboard/audit",
         "/dashboard/billing"]
#: English words that would give away an untranslated string in a Danish page's main content.
ENGLISH = re.compile(r"\b(the|and|with|your|Save|Add|New|Cancel|Edit|Back|Today|Week|Day|Bookings|Customers?|"
                     r"Services?|Times|Price|Duration|Name|Email|Phone|Search|No|Remove|Working|hours|Active)\b")


@pytest.fixture
def bella(ctx):
    """Bella (Europe/Copenhagen, DKK) with one 45-minute service "Klip" at 649 kr."""
    return make_business("bella", services=[("Klip", 45, 64900)])


def _day_ahead() -> date:
    """A day two days from now in Copenhagen (bookable; the default horizon is longer)."""
    return utcnow().astimezone(zone("Europe/Copenhagen")).date() + timedelta(days=2)


def _book(biz, day: date) -> uuid.UUID:
    """A booking for Ada at 14:30 local on ``day``."""
    start = datetime.combine(day, time(14, 30), tzinfo=zone(biz.timezone)).astimezone(UTC)
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=biz.staff_ids[0], start=start,
                                 customer=CustomerInput("Ada Lovelace", "ada@example.com", "+4512345678"),
                                 customer_timezone=biz.timezone)
        db.session.commit()
        return booking.id


def _page(client, path: str, lang: str) -> str:
    response = client.get(path, base_url=BASE, headers={"Accept-Language": lang})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _main_text(html: str) -> str:
    """The visible text of the dashboard page's main content (without the sidebar, scripts and
    the business's own data the test put in: names, emails, the time zone)."""
    content = html.split('<div class="db-content">', 1)[1].split("</main>", 1)[0]
    content = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", content, flags=re.S)
    content = re.sub(r"<option\b[^>]*>[^<]*</option>", " ", content)  # places and currencies: names, checked apart
    # The review summary is the storefront's macro (translated with the storefront's pages).
    content = re.sub(r'<p class="rv-none">.*?</p>', " ", content, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", content))
    for data in ("Ada Lovelace", "Staff 1", "Staff 2", "Klip", "Bella", "Europe/Copenhagen", "ada@example.com"):
        text = text.replace(data, " ")
    return re.sub(r"\s+", " ", text)


def test_a_danish_reader_gets_the_dashboard_in_danish_with_danish_formats(app, bella):
    day = _day_ahead()
    booking_id = _book(bella, day)
    client = app.test_client()
    login_as(client, bella.owner_email, host="bella.localhost")
    weekday, long_date = DA_DAYS[day.weekday()], f"{day.day}. {DA_MONTHS[day.month - 1]}"

    board = _page(client, f"/dashboard/?view=day&date={day}", "da-DK,da;q=0.9")
    assert '<html lang="da-DK">' in board
    assert f"{weekday} {long_date} {day.year}" in board
    assert "14.30" in board and "15.15" in board and "14:30" not in board
    assert "649,00\xa0kr." in board
    assert "Afventer bekræftelse" in board and "Booket værdi" in board and "Bookinger" in board

    calendar = _page(client, f"/dashboard/calendar?date={day}", "da")
    assert "Kalender · Dag" in calendar and f"{weekday} {long_date} {day.year}" in calendar
    assert "14.30–15.15" in calendar and "Bloker tid (møde, pause)" in calendar

    week = _page(client, f"/dashboard/calendar?view=week&date={day}", "da")
    assert DA_DAYS[day.weekday()][:3] in _main_text(week)

    detail = _page(client, f"/dashboard/bookings/{booking_id}", "da")
    assert f"Tilbage til {weekday} {long_date}" in detail
    assert "Aftale" in detail and "Afbestil booking" in detail and "Historik" in detail

    business = _page(client, "/dashboard/business", "da")
    assert "København (Danmark)" in business and 'label="Europa"' in business and "DKK · dansk krone" in business
    assert ">Danmark</option>" in business and "Kørestolsvenlig" in business

    customers = _page(client, "/dashboard/customers", "da")
    assert "Alle, der har booket hos dig." in customers and "1 booking" in customers

    for path in [*PAGES, f"/dashboard/bookings/{booking_id}"]:
        html = _page(client, path.format(day=day), "da")
        leftovers = ENGLISH.findall(_main_text(html))
        assert not leftovers, f"{path}: English left in the Danish page: {sorted(set(leftovers))}"


def test_an_english_reader_gets_the_same_pages_in_english(app, bella):
    day = _day_ahead()
    booking_id = _book(bella, day)
    client = app.test_client()
    login_as(client, bella.owner_email, host="bella.localhost")

    board = _page(client, f"/dashboard/?view=day&date={day}", "en-GB,en;q=0.9")
    assert '<html lang="en-GB">' in board
    assert f"{EN_DAYS[day.weekday()]}, {day.day} {EN_MONTHS[day.month - 1]} {day.year}" in board
    assert "14:30" in board and "Awaiting confirmation" in board and "Booked value" in board
    assert "Afventer" not in board

    detail = _page(client, f"/dashboard/bookings/{booking_id}", "en-GB")
    assert "Appointment" in detail and "Cancel booking" in detail and "History" in detail

    us = _page(client, f"/dashboard/calendar?date={day}", "en-US")
    assert "2:30 PM" in us and "Calendar · Day" in us

    for path in ("/dashboard/customers", "/dashboard/services", "/dashboard/staff", "/dashboard/billing"):
        html = _page(client, path, "en-GB")
        assert not re.search(r"\b(Kunder|Ydelser|Medarbejdere|Abonnement|Gem|Tilføj)\b", _main_text(html)), path
