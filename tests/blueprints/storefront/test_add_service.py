"""'Add another service' in the customer's booking flow: Cut + Colour in one booking with one
professional, the totals shown at every step, the times offered leave room for both, and the
confirmation and manage pages list the services."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.items import items_of
from app.booking.models import Booking
from app.catalog.models import ServiceStaff
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from

pytestmark = pytest.mark.integration

BASE = "http://cutz.localhost"
CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def cutz(ctx):
    return make_business("cutz", staff=2, services=[("Cut", 30, 30000), ("Colour", 90, 90000), ("Shave", 20, 15000)])


def _day_start(days: int, hh: int, mm: int = 0) -> datetime:
    day = datetime.now(CPH).date() + timedelta(days=days)
    return datetime.combine(day, time(hh, mm), tzinfo=CPH).astimezone(UTC)


def _z(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_staff_step_adds_and_removes_services_with_the_totals(client, cutz):
    cut, colour, _ = cutz.service_ids
    page = client.get(f"/book/{cut}", base_url=BASE).get_data(as_text=True)
    assert "Add another service" in page
    add = re.search(r'href="([^"]*also=' + str(colour) + r'[^"]*)"', page)
    assert add, "no link adding the colour"
    chained = client.get(add.group(1).replace("&amp;", "&"), base_url=BASE).get_data(as_text=True)
    assert "Cut + Colour" in chained
    assert "2 h in all" in chained  # 30 + 90 minutes
    assert "1.200,00\xa0kr." in chained  # DKK 300 + 900
    assert "Remove" in chained


def test_only_staff_who_perform_every_service_are_offered(client, cutz):
    cut, colour, _ = cutz.service_ids
    with tenant_scope(cutz.tenant_id):
        db.session.execute(sa.delete(ServiceStaff).where(ServiceStaff.service_id == colour,
                                                         ServiceStaff.staff_id == cutz.staff_ids[0]))
        db.session.commit()
    page = client.get(f"/book/{cut}?also={colour}", base_url=BASE).get_data(as_text=True)
    assert "Staff 2" in page and "Staff 1" not in page
    assert client.get(f"/book/{cut}/slots?staff={cutz.staff_ids[0]}&also={colour}", base_url=BASE).status_code == 404


def test_slots_leave_room_for_the_whole_chain(client, cutz):
    cut, colour, _ = cutz.service_ids
    day = datetime.now(CPH).date() + timedelta(days=2)
    html = client.get(f"/book/{cut}/slots?staff=any&tz=Europe/Copenhagen&date={day}&also={colour}",
                      base_url=BASE).get_data(as_text=True)
    starts = [datetime.fromisoformat(s) for s in re.findall(r'href="[^"]*start=([^&"]+)', html)]
    assert starts and max(s.astimezone(CPH).time() for s in starts) == time(15, 0)


def test_booking_cut_and_colour_in_one_go(client, cutz):
    cut, colour, _ = cutz.service_ids
    start = _day_start(2, 10)
    token = csrf_from(client.get("/", base_url=BASE).data)
    data = {"csrf_token": token, "staff": "any", "start": _z(start), "tz": "Europe/Copenhagen", "also": str(colour),
            "name": "Ann Customer", "email": "ann@example.com", "phone": "+45 20 30 40 50", "action": "confirm"}
    summary = client.post(f"/book/{cut}/details", base_url=BASE, data=data).get_data(as_text=True)
    assert "Cut + Colour" in summary and 'name="also"' in summary
    answer = client.post(f"/book/{cut}/confirm", base_url=BASE, data=data)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:3000]
    db.session.rollback()
    with tenant_scope(cutz.tenant_id):
        booking = db.session.scalar(sa.select(Booking))
        assert booking.ends_at - booking.starts_at == timedelta(minutes=120)
        assert booking.price_amount == 120000
        assert [i.name for i in items_of(booking.id)] == ["Cut", "Colour"]
    page = client.get(answer.headers["Location"], base_url=BASE).get_data(as_text=True)
    assert "10:00–10:30 Cut" in page and "10:30–12:00 Colour" in page
    manage = re.search(r"/manage/([A-Za-z0-9_.\-]+)", page).group(0)
    assert "Cut + Colour" in client.get(manage, base_url=BASE).get_data(as_text=True)


def test_a_chain_that_does_not_fit_is_refused_with_the_next_times(client, cutz):
    cut, colour, _ = cutz.service_ids
    token = csrf_from(client.get("/", base_url=BASE).data)
    data = {"csrf_token": token, "staff": "any", "start": _z(_day_start(2, 16)), "tz": "Europe/Copenhagen",
            "also": str(colour), "name": "Ann", "email": "ann@example.com", "phone": "+45 20 30 40 50",
            "action": "confirm"}
    answer = client.post(f"/book/{cut}/confirm", base_url=BASE, data=data)
    assert answer.status_code == 422
    assert "not a bookable time" in answer.get_data(as_text=True)
    db.session.rollback()
    with tenant_scope(cutz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
