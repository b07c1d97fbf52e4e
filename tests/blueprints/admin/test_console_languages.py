"""The console and the dispute pages in the reader's language: a Danish browser gets Danish words
and Danish formats (money "649,00 kr.", "tirsdag 23. november", the 24-hour clock "14.30"), an
English one the same pages in English."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.disputes.models import Dispute
from app.extensions import db
from app.tenants.context import tenant_scope
from app.timeutil import utcnow, zone
from tests.factories import make_business, make_user
from tests.helpers import login_admin, login_as
from tests.support.notification_support import book

pytestmark = pytest.mark.integration

APEX = "http://localhost"
DA = {"Accept-Language": "da-DK,da;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
DANISH_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
                 "november", "december")


def next_tuesday_at_half_past_two() -> datetime:
    """The next Tuesday at least two days ahead, 14:30 in Copenhagen (as UTC)."""
    cph = zone("Europe/Copenhagen")
    day = (utcnow().astimezone(cph) + timedelta(days=2)).date()
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime.combine(day, time(14, 30), tzinfo=cph).astimezone(UTC)


@pytest.fixture
def disputed_booking(ctx):
    """Bella, Ann's 649.00 kr. booking next Tuesday at 14:30 and her open dispute about it;
    returns (business, booking id, case id, booking start)."""
    biz = make_business("bella", services=[("Klipning", 60, 64900)])
    ann = make_user("ann@example.com", name="Ann Hansen")
    start = next_tuesday_at_half_past_two()
    booking_id = book(biz, start, user_id=ann, email="ann@example.com")
    with tenant_scope(biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        case = Dispute(kind="dispute", booking_id=booking_id, customer_id=booking.customer_id, customer_user_id=ann,
                       reason="poor_quality", description="Håret blev for kort.", status="awaiting_business",
                       paid_amount=64900, currency="DKK", business_due_at=utcnow() + timedelta(hours=72))
        db.session.add(case)
        db.session.flush()
        case_id = case.id
        db.session.commit()
    make_user("root@plaza.test", is_platform_admin=True)
    return biz, booking_id, case_id, start


def main_of(page: str) -> str:
    """The page's main content (the console's section, or the page's <main>), tags removed."""
    found = re.search(r'<main class="ad-main"[^>]*>(.*?)</main>', page, re.S) or re.search(
        r"<main[^>]*>(.*)</main>", page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_a_danish_admin_reads_the_console_and_its_dispute_pages_in_danish(client, disputed_booking):
    biz, _booking_id, case_id, start = disputed_booking
    login_admin(client, "root@plaza.test")

    home = client.get("/admin/", base_url=APEX, headers=DA)
    assert home.status_code == 200
    text = main_of(home.get_data(as_text=True))
    assert "Platformkonsol" in text and "Hver handling her skrives i revisionsloggen" in text
    nav = home.get_data(as_text=True)
    assert all(word in nav for word in ("Oversigt", "Revisionslog", "Virksomheder", "Moderering", "Nøgletal"))

    queue = client.get("/admin/disputes?status=waiting", base_url=APEX, headers=DA).get_data(as_text=True)
    text = main_of(queue)
    assert "Tvister og anmodninger om refusion" in text and "Venter på virksomheden" in text
    assert "649,00\xa0kr." in text or "649,00 kr." in text
    assert "Dårlig kvalitet" in text and "Bella" in text
    for english in ("Disputes and refund requests", "Waiting for the business", "Poor quality", "Refund requests",
                    "Paid", "Opened", "Awaiting business"):
        assert english not in text

    detail = client.get(f"/admin/disputes/{biz.tenant_id}/{case_id}", base_url=APEX, headers=DA)
    assert detail.status_code == 200
    text = main_of(detail.get_data(as_text=True))
    assert "14.30" in text and "14:30" not in text  # the booking's time, 24-hour clock the Danish way
    assert "Afgørelse" in text and "Begrundelse (begge parter kan læse den)" in text and "Fuld refusion" in text
    assert "Virksomheden svarer senest" in text and "Kunde" in text
    for english in ("Decision", "Full refund", "Reason (both sides read it)", "The business answers by",
                    "refundable now", "No answer yet"):
        assert english not in text

    empty = main_of(client.get("/admin/moderation", base_url=APEX, headers=DA).get_data(as_text=True))
    assert "Intet venter. Godt klaret." in empty and "Nothing is waiting" not in empty
    assert start  # the booking the case is about


def test_a_danish_customer_reads_her_booking_problem_page_with_danish_dates_and_money(client, disputed_booking):
    biz, booking_id, _case_id, start = disputed_booking
    login_as(client, "ann@example.com")
    page = client.get(f"/account/bookings/{biz.tenant_id}/{booking_id}/problem", base_url=APEX, headers=DA)
    assert page.status_code == 200
    text = main_of(page.get_data(as_text=True))
    local = start.astimezone(zone("Europe/Copenhagen"))
    assert f"tirsdag {local.day}. {DANISH_MONTHS[local.month - 1]}" in text and "14.30" in text
    assert "649,00\xa0kr." in text or "649,00 kr." in text
    assert "Et problem med din booking hos Bella" in text and "Tvist: Dårlig kvalitet" in text
    assert "Virksomheden svarer senest" in text
    for english in ("A problem with your booking", "Tuesday", "November", "Dispute:", "The business answers by",
                    "Open this case", "opened"):
        assert english not in text


def test_an_english_reader_gets_the_same_pages_in_english(client, disputed_booking):
    biz, booking_id, case_id, _start = disputed_booking
    login_admin(client, "root@plaza.test")
    queue = main_of(client.get("/admin/disputes?status=waiting", base_url=APEX, headers=EN).get_data(as_text=True))
    assert "Disputes and refund requests" in queue and "Poor quality" in queue and "Awaiting business" in queue
    assert "Tvister" not in queue
    detail = main_of(client.get(f"/admin/disputes/{biz.tenant_id}/{case_id}", base_url=APEX,
                                headers=EN).get_data(as_text=True))
    assert "Decision" in detail and "14:30" in detail and "Afgørelse" not in detail

    login_as(client, "ann@example.com")
    page = main_of(client.get(f"/account/bookings/{biz.tenant_id}/{booking_id}/problem", base_url=APEX,
                              headers=EN).get_data(as_text=True))
    assert "A problem with your booking at Bella" in page and "Tuesday" in page and "14:30" in page
    assert "tirsdag" not in page and "Tvist" not in page
