"""Several services in one booking at the front desk: "Add another service" on the new-booking
form books Cut + Colour back to back with one staff member; the free starts, the booking page,
the board and the calendar show the chain."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.booking.items import items_of
from app.booking.models import Booking
from app.extensions import db
from app.tenants.context import tenant_scope
from app.timeutil import utcnow, zone
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "cutz.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def cutz(ctx):
    """Cutz (Europe/Copenhagen): 2 staff 09:00–17:00 daily, a 30-minute cut and a 90-minute colour."""
    return make_business("cutz", services=[("Cut", 30, 30000), ("Colour", 90, 90000)])


@pytest.fixture
def owner(app, cutz):
    client = app.test_client()
    login_as(client, cutz.owner_email, host=HOST)
    return client


def _day(biz):
    return utcnow().astimezone(zone(biz.timezone)).date() + timedelta(days=3)


def _post(client, path, data):
    token = csrf_from(client.get("/dashboard/", base_url=BASE).data)
    return client.post(path, base_url=BASE, data={"csrf_token": token, **data})


def _form(biz, **fields):
    data = {"customer": "new", "new_name": "Carla", "new_phone": "+4522334455", "service": str(biz.service_ids[0]),
            "extra_1": str(biz.service_ids[1]), "extra_2": "", "staff": str(biz.staff_ids[0]),
            "day": _day(biz).isoformat(), "time": "10:00", "source": "phone"}
    data.update(fields)
    return data


def test_the_desk_books_cut_and_colour_back_to_back(owner, cutz):
    page = owner.get(f"/dashboard/bookings/new?date={_day(cutz).isoformat()}", base_url=BASE)
    assert b"Add another service" in page.data
    answer = _post(owner, "/dashboard/bookings/new", _form(cutz))
    assert answer.status_code == 303, answer.data[:2000]
    with tenant_scope(cutz.tenant_id):
        booking = db.session.scalar(sa.select(Booking))
        tz = zone(cutz.timezone)
        assert booking.starts_at.astimezone(tz).time() == time(10, 0)
        assert booking.ends_at.astimezone(tz).time() == time(12, 0)
        assert booking.price_amount == 120000
        assert [i.name for i in items_of(booking.id)] == ["Cut", "Colour"]
        booking_id = booking.id
    detail = owner.get(f"/dashboard/bookings/{booking_id}", base_url=BASE).get_data(as_text=True)
    assert "Cut + Colour" in detail
    assert "10:00–10:30 Cut" in detail and "10:30–12:00 Colour" in detail
    board = owner.get(f"/dashboard/calendar?date={_day(cutz).isoformat()}&view=day", base_url=BASE)
    assert "Cut + Colour" in board.get_data(as_text=True)


def test_free_starts_leave_room_for_every_service(owner, cutz):
    query = {"service": str(cutz.service_ids[0]), "staff": str(cutz.staff_ids[0]), "day": _day(cutz).isoformat()}
    single = owner.get("/dashboard/bookings/new/starts", base_url=BASE, query_string=query).get_data(as_text=True)
    chain = owner.get("/dashboard/bookings/new/starts", base_url=BASE,
                      query_string={**query, "extra_1": str(cutz.service_ids[1])}).get_data(as_text=True)
    assert ">16:30<" in single and ">15:00<" in chain and ">15:30<" not in chain


def test_a_chain_running_past_closing_is_refused_without_book_anyway(owner, cutz):
    answer = _post(owner, "/dashboard/bookings/new", _form(cutz, time="16:00"))
    assert answer.status_code == 422
    assert "outside" in answer.get_data(as_text=True)
    with tenant_scope(cutz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
