"""The front desk in the dashboard: a new booking for a new or found customer, walk-in,
"Book anyway", the booking page's edit form and "Move…", the calendar (day columns per staff
member, week view, moves posted by drag and drop) and blocked time.

Real users through the Flask test client on ``bella.localhost``; the database is checked for
what was (or was not) written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.booking.desk import first_free_staff
from app.booking.models import Booking, BookingEvent, Customer
from app.booking.service import CustomerInput, create_booking
from app.catalog.models import Service, TimeOff
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"
HX = {"HX-Request": "true"}


@pytest.fixture
def bella(ctx):
    """Bella (Europe/Copenhagen, DKK): 2 staff working 09:00–17:00 daily, one 60-minute haircut."""
    return make_business("bella")


@pytest.fixture
def owner(app, bella):
    client = app.test_client()
    login_as(client, bella.owner_email, host=HOST)
    return client


def _get(client, path, **kw):
    return client.get(path, base_url=BASE, **kw)


def _post(client, path, data, **kw):
    token = csrf_from(_get(client, "/dashboard/").data)
    return client.post(path, base_url=BASE, data={"csrf_token": token, **data}, **kw)


def _day(biz, days=3):
    return utcnow().astimezone(zone(biz.timezone)).date() + timedelta(days=days)


def _utc(biz, day, hh, mm=0):
    return datetime.combine(day, time(hh, mm), tzinfo=zone(biz.timezone)).astimezone(UTC)


def _rows(biz, model, *where):
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        rows = list(db.session.scalars(sa.select(model).where(*where)))
        db.session.expunge_all()  # loaded values stay readable outside the tenant scope
        return rows


def _book(biz, start, staff=0, name="Ada Lovelace", email="ada@example.com"):
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[staff], start=start,
                                 customer=CustomerInput(name, email, "+4512345678"), customer_timezone=biz.timezone)
        db.session.commit()
        return booking.id


def _new(biz, **fields):
    data = {"customer": "new", "service": str(biz.service_ids[0]), "staff": str(biz.staff_ids[0]),
            "day": _day(biz).isoformat(), "time": "10:00", "source": "phone", "notify": "y"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_a_phone_booking_for_a_new_customer(owner, bella):
    page = _get(owner, f"/dashboard/bookings/new?date={_day(bella).isoformat()}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Haircut" in html and "Anyone (first free)" in html
    assert 'data-set-time="09:00"' in html and 'data-set-time="16:00"' in html  # free starts from availability
    resp = _post(owner, "/dashboard/bookings/new", _new(bella, new_name="Carla Phone", new_phone="22 33 44 55"))
    assert resp.status_code == 303
    assert f"/dashboard/calendar?date={_day(bella).isoformat()}" in resp.headers["Location"]
    [booking] = _rows(bella, Booking)
    [customer] = _rows(bella, Customer)
    assert (customer.name, customer.phone) == ("Carla Phone", "+4522334455")
    assert (booking.source, booking.status, booking.starts_at) == ("phone", "confirmed", _utc(bella, _day(bella), 10))
    [event] = _rows(bella, OutboxEvent, OutboxEvent.kind == "booking.confirmed")
    assert event.payload["notify_customer"] is False  # no email address to write to
    detail = _get(owner, f"/dashboard/bookings/{booking.id}").data.decode()
    assert "By phone" in detail and "phone.invalid" not in detail


def test_finding_an_existing_customer_as_you_type(owner, bella):
    _book(bella, _utc(bella, _day(bella), 9), name="Grace Hopper", email="grace@example.com")
    found = _get(owner, "/dashboard/bookings/new/customers?q=grace", headers=HX)
    assert found.status_code == 200
    html = found.data.decode()
    assert html.lstrip().startswith('<div id="customer-results"') and "Grace Hopper" in html
    assert "No customer matches" in _get(owner, "/dashboard/bookings/new/customers?q=zed", headers=HX).data.decode()
    customer_id = re.search(r'name="customer" value="([0-9a-f-]{36})"', html).group(1)
    resp = _post(owner, "/dashboard/bookings/new", _new(bella, customer=customer_id, staff="any", time="11:00"))
    assert resp.status_code == 303
    assert len(_rows(bella, Customer)) == 1
    [event] = _rows(bella, OutboxEvent, OutboxEvent.kind == "booking.confirmed",
                    OutboxEvent.payload["source"].astext == "phone")
    assert event.payload["notify_customer"] is True


def test_free_starts_follow_the_chosen_staff_and_day(owner, bella):
    _book(bella, _utc(bella, _day(bella), 10), staff=0)
    html = _get(owner, f"/dashboard/bookings/new/starts?service={bella.service_ids[0]}&staff={bella.staff_ids[0]}"
                       f"&day={_day(bella).isoformat()}", headers=HX).data.decode()
    assert html.lstrip().startswith('<div id="free-starts"')
    assert 'data-set-time="10:00"' not in html and 'data-set-time="11:00"' in html


def test_a_taken_time_is_refused_inline_even_with_book_anyway(owner, bella):
    _book(bella, _utc(bella, _day(bella), 10), staff=0)
    resp = _post(owner, "/dashboard/bookings/new", _new(bella, new_name="Carla", new_phone="22334455", override="y"),
                 headers=HX)
    assert resp.status_code == 422
    assert "Staff 1 already has a booking at this time." in resp.data.decode()
    assert len(_rows(bella, Booking)) == 1 and len(_rows(bella, Customer)) == 1  # nothing written, not even Carla


def test_outside_hours_needs_book_anyway(owner, bella):
    data = _new(bella, new_name="Late Larry", new_email="larry@example.com", time="18:00")
    resp = _post(owner, "/dashboard/bookings/new", data)
    assert resp.status_code == 422
    assert "outside Staff 1&#39;s working hours" in resp.data.decode()
    assert _rows(bella, Booking) == []
    assert _post(owner, "/dashboard/bookings/new", {**data, "override": "y"}).status_code == 303
    [booking] = _rows(bella, Booking)
    assert booking.starts_at == _utc(bella, _day(bella), 18)


def test_invalid_input_is_answered_beside_the_fields(owner, bella):
    resp = _post(owner, "/dashboard/bookings/new", _new(bella, new_name="", time=""))
    assert resp.status_code == 422
    html = resp.data.decode()
    assert "enter a new customer&#39;s name" in html and "Enter the start time." in html
    resp = _post(owner, "/dashboard/bookings/new", _new(bella, new_name="Nora"))
    assert "phone number or email address" in resp.data.decode()
    resp = _post(owner, "/dashboard/bookings/new", _new(bella, new_name="Nora", new_phone="12"))
    assert resp.status_code == 422 and _rows(bella, Booking) == []


def test_walk_in_now_opens_with_the_time_and_the_first_free_staff_member(owner, bella):
    now = utcnow().astimezone(zone(bella.timezone))
    html = _get(owner, "/dashboard/bookings/new?walkin=1").data.decode()
    assert "<h1>Walk-in</h1>" in html
    rounded = now.replace(minute=now.minute - now.minute % 5)
    assert f'value="{rounded:%H:%M}"' in html
    assert re.search(r'<option selected value="walk_in"|<option value="walk_in" selected', html)
    assert re.search(r'id="override"[^>]*checked|checked[^>]*id="override"', html)


def test_a_walk_in_goes_to_someone_free_for_the_whole_service(owner, bella):
    """Staff 1 is free for half an hour but has a booking after it: a 60-minute walk-in goes to
    staff 2, who is free for the whole of it."""
    day = _day(bella)
    _book(bella, _utc(bella, day, 10, 30), staff=0)
    with tenant_scope(bella.tenant_id):
        tenant = db.session.get(Tenant, bella.tenant_id)
        haircut = db.session.get(Service, (bella.tenant_id, bella.service_ids[0]))
        start = _utc(bella, day, 10)
        assert first_free_staff(tenant, start, service=haircut) == bella.staff_ids[1]
        assert first_free_staff(tenant, start, minutes=30) == bella.staff_ids[0]


def test_move_dialog_and_edit_form_on_the_booking_page(owner, bella):
    booking_id = _book(bella, _utc(bella, _day(bella), 10), staff=0)
    page = _get(owner, f"/dashboard/bookings/{booking_id}").data.decode()
    assert 'data-open-dialog="move-dialog"' in page and "<dialog id=\"move-dialog\"" in page
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/move",
                 {"day": _day(bella).isoformat(), "time": "13:00", "staff": str(bella.staff_ids[1]), "notify": "y"})
    assert resp.status_code == 303
    [booking] = _rows(bella, Booking)
    assert (booking.staff_id, booking.starts_at) == (bella.staff_ids[1], _utc(bella, _day(bella), 13))
    page = _get(owner, f"/dashboard/bookings/{booking_id}").data.decode()
    assert "Moved" in page and "with Staff 1 to" in page and "with Staff 2" in page
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/edit",
                 {"service": str(bella.service_ids[0]), "staff": str(bella.staff_ids[1]),
                  "day": _day(bella).isoformat(), "time": "13:00", "price": "420", "notes": "Allergic to dye",
                  "notify": "y"})
    assert resp.status_code == 303
    [booking] = _rows(bella, Booking)
    assert (booking.price_amount, booking.notes) == (42000, "Allergic to dye")
    kinds = [e.kind for e in _rows(bella, BookingEvent)]
    assert sorted(kinds) == ["created", "edited", "rescheduled"]
    assert len(_rows(bella, OutboxEvent, OutboxEvent.kind == "booking.rescheduled")) == 2


def test_a_refused_move_keeps_the_dialog_open_with_the_reason(owner, bella):
    booking_id = _book(bella, _utc(bella, _day(bella), 10), staff=0)
    _book(bella, _utc(bella, _day(bella), 13), staff=1, name="Bo", email="bo@example.com")
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/move",
                 {"day": _day(bella).isoformat(), "time": "13:00", "staff": str(bella.staff_ids[1]), "override": "y"})
    assert resp.status_code == 422
    html = resp.data.decode()
    assert "Staff 2 already has a booking at this time." in html and 'id="move-dialog"' in html and "data-open" in html
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/edit",
                 {"service": str(bella.service_ids[0]), "staff": str(bella.staff_ids[0]), "day": _day(bella).isoformat(),
                  "time": "16:30", "price": "500", "notes": ""})
    assert resp.status_code == 422 and "outside Staff 1&#39;s working hours" in resp.data.decode()
    booking = next(b for b in _rows(bella, Booking) if str(b.id) == str(booking_id))
    assert booking.starts_at == _utc(bella, _day(bella), 10)


def test_the_calendar_shows_staff_columns_and_moves_by_drop(owner, bella):
    booking_id = _book(bella, _utc(bella, _day(bella), 10), staff=0)
    day = _day(bella).isoformat()
    page = _get(owner, f"/dashboard/calendar?date={day}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Staff 1" in html and "Staff 2" in html and f'id="cal-booking-{booking_id}"' in html
    assert 'draggable="true"' in html and 'data-drop' in html
    # 09:00 is the first row (2); 10:00 is 12 five-minute rows below; 60 minutes span 12 rows; column 2 is Staff 1.
    assert re.search(rf'class="cal-ev s-confirmed cal-c2 cal-r14 cal-s12" id="cal-booking-{booking_id}"', html)
    week = _get(owner, f"/dashboard/calendar?view=week&date={day}").data.decode()
    assert f'id="cal-booking-{booking_id}"' in week
    drop = {"day": day, "time": "14:00", "staff": str(bella.staff_ids[1]), "from": "calendar", "view": "day",
            "date": day, "staff_filter": "all"}
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/move", drop, headers=HX)
    assert resp.status_code == 200 and "Booking moved." in resp.data.decode()
    assert re.search(rf'class="cal-ev s-confirmed cal-c3 cal-r62 cal-s12" id="cal-booking-{booking_id}"',
                     resp.data.decode())
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/move", {**drop, "time": "20:00"}, headers=HX)
    assert resp.status_code == 422
    assert "outside Staff 2&#39;s working hours" in resp.data.decode() and "Move…" in resp.data.decode()
    [booking] = _rows(bella, Booking)
    assert booking.starts_at == _utc(bella, _day(bella), 14)


def test_blocked_time_from_the_calendar(owner, bella):
    day = _day(bella).isoformat()
    resp = _post(owner, "/dashboard/calendar/blocks",
                 {"staff": str(bella.staff_ids[0]), "title": "Team meeting", "day": day, "time": "12:00",
                  "minutes": "60", "view": "day", "date": day, "staff_filter": "all"}, headers=HX)
    assert resp.status_code == 200
    html = resp.data.decode()
    assert "Blocked 60 minutes: Team meeting." in html and "Team meeting" in html
    [block] = _rows(bella, TimeOff)
    assert (block.starts_at, block.ends_at) == (_utc(bella, _day(bella), 12), _utc(bella, _day(bella), 13))
    starts = _get(owner, f"/dashboard/bookings/new/starts?service={bella.service_ids[0]}&staff={bella.staff_ids[0]}"
                         f"&day={day}", headers=HX).data.decode()
    assert 'data-set-time="12:00"' not in starts and 'data-set-time="13:00"' in starts
    refused = _post(owner, "/dashboard/bookings/new", _new(bella, new_name="Al", new_phone="22334455", time="12:00"))
    assert refused.status_code == 422 and "has blocked this time (Team meeting)" in refused.data.decode()
    bad = _post(owner, "/dashboard/calendar/blocks", {"staff": str(bella.staff_ids[0]), "title": "", "day": day,
                                                      "time": "12:00", "minutes": "0"}, headers=HX)
    assert bad.status_code == 422 and "Block between 5 and 720 minutes." in bad.data.decode()
    gone = _post(owner, f"/dashboard/calendar/blocks/{block.id}/delete", {"view": "day", "date": day}, headers=HX)
    assert gone.status_code == 200 and "Removed “Team meeting”." in gone.data.decode()
    assert _rows(bella, TimeOff) == []


def test_outsiders_get_404(app, bella):
    other = make_business("fixit", timezone="America/New_York", currency="USD")
    client = app.test_client()
    login_as(client, other.owner_email, host=HOST)
    for path in ("/dashboard/bookings/new", "/dashboard/calendar", "/dashboard/bookings/new/customers?q=a"):
        assert _get(client, path).status_code == 404, path
