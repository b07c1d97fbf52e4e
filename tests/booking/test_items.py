"""Several services in one booking (app.booking.items): "Cut + Colour" back to back with one
staff member, against the real database. The booking spans both services, costs their total,
lists them in order, and the exclusion constraint still refuses an overlap; availability offers
only starts where the whole chain fits, with staff who perform every service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.booking.desk import BookingChanges, book_by_staff, desk_customer, edit_booking
from app.booking.errors import SlotUnavailable, UnknownReference
from app.booking.items import item_times, items_of
from app.booking.models import Booking
from app.booking.service import Actor, CustomerInput, create_booking, reschedule_booking
from app.catalog.models import Service, ServiceStaff
from app.extensions import db
from app.scheduling.service import find_slots
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

DAY = date(2027, 3, 1)  # a Monday; Copenhagen is UTC+1
NOW = datetime(2027, 2, 25, 8, 0, tzinfo=UTC)
STAFF = Actor("staff")


def at(hh: int, mm: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hh - 1, mm, tzinfo=UTC)


@pytest.fixture
def cutz(ctx):
    biz = make_business("cutz", services=[("Cut", 30, 30000), ("Colour", 90, 90000)], horizon_days=365)
    with tenant_scope(biz.tenant_id):
        yield biz


def _tenant(biz) -> Tenant:
    return db.session.get(Tenant, biz.tenant_id)


def _online(biz, start, staff=None, **kw) -> Booking:
    return create_booking(_tenant(biz), service_id=biz.service_ids[0], also_service_ids=[biz.service_ids[1]],
                          staff_id=staff, start=start, customer=CustomerInput("Ann", "ann@example.com"),
                          customer_timezone="Europe/Copenhagen", now=NOW, **kw)


def test_an_online_booking_of_two_services_spans_and_costs_both(cutz):
    booking = _online(cutz, at(10))
    assert (booking.starts_at, booking.ends_at) == (at(10), at(12))
    assert booking.price_amount == 120000
    timed = item_times(booking, items_of(booking.id))
    assert [(i.name, s, e, i.price_amount) for i, s, e in timed] == [
        ("Cut", at(10), at(10, 30), 30000), ("Colour", at(10, 30), at(12), 90000)]
    # The chain's span is held: another booking inside the colour is refused.
    with pytest.raises(SlotUnavailable):
        create_booking(_tenant(cutz), service_id=cutz.service_ids[0], staff_id=booking.staff_id, start=at(11),
                       customer=CustomerInput("Bo", "bo@example.com"), customer_timezone="UTC", now=NOW)


def test_a_single_service_booking_still_gets_one_item(cutz):
    booking = create_booking(_tenant(cutz), service_id=cutz.service_ids[0], staff_id=None, start=at(10),
                             customer=CustomerInput("Ann", "ann@example.com"), customer_timezone="UTC", now=NOW)
    assert [(i.name, i.duration_minutes, i.position) for i in items_of(booking.id)] == [("Cut", 30, 0)]
    assert booking.ends_at == at(10, 30)


def test_availability_offers_only_starts_where_the_whole_chain_fits(cutz):
    tenant = _tenant(cutz)
    cut, colour = (db.session.scalar(sa.select(Service).where(Service.id == sid)) for sid in cutz.service_ids)
    chain = find_slots(tenant, cut, staff_id=cutz.staff_ids[0], start_date=DAY, end_date=DAY, now=NOW, also=[colour])
    single = find_slots(tenant, cut, staff_id=cutz.staff_ids[0], start_date=DAY, end_date=DAY, now=NOW)
    assert chain[-1].start == at(15) and chain[-1].end == at(17)  # 2 hours before closing
    assert single[-1].start == at(16, 30)
    assert all(s.end - s.start == timedelta(minutes=120) for s in chain)


def test_any_staff_picks_someone_who_performs_every_service(cutz):
    db.session.execute(sa.delete(ServiceStaff).where(ServiceStaff.service_id == cutz.service_ids[1],
                                                     ServiceStaff.staff_id == cutz.staff_ids[0]))
    db.session.flush()
    booking = _online(cutz, at(10))
    assert booking.staff_id == cutz.staff_ids[1]
    with pytest.raises(UnknownReference):
        _online(cutz, at(13), staff=cutz.staff_ids[0])


def test_the_performer_duration_and_price_apply_per_service(cutz):
    row = db.session.scalar(sa.select(ServiceStaff).where(ServiceStaff.service_id == cutz.service_ids[1],
                                                          ServiceStaff.staff_id == cutz.staff_ids[0]))
    row.duration_minutes, row.price_amount = 60, 70000
    db.session.flush()
    booking = _online(cutz, at(10), staff=cutz.staff_ids[0])
    assert booking.ends_at == at(11, 30) and booking.price_amount == 100000


def test_the_desk_books_and_moves_several_services_as_one(cutz):
    tenant = _tenant(cutz)
    customer = desk_customer("Carla", None, "+4522334455")
    booking = book_by_staff(tenant, service_id=cutz.service_ids[0], also_service_ids=[cutz.service_ids[1]],
                            staff_id=cutz.staff_ids[0], start=at(9), customer=customer, source="phone",
                            actor=STAFF, now=NOW)
    assert (booking.ends_at, booking.price_amount) == (at(11), 120000)
    edit_booking(tenant, booking, BookingChanges(staff_id=cutz.staff_ids[1], start=at(13)), STAFF, now=NOW)
    assert (booking.starts_at, booking.ends_at, booking.staff_id) == (at(13), at(15), cutz.staff_ids[1])
    assert [i.name for i in items_of(booking.id)] == ["Cut", "Colour"]
    assert booking.price_amount == 120000
    # A chain running past closing needs "Book anyway" at the desk.
    with pytest.raises(SlotUnavailable):
        book_by_staff(tenant, service_id=cutz.service_ids[0], also_service_ids=[cutz.service_ids[1]],
                      staff_id=cutz.staff_ids[0], start=at(16), customer=customer, source="phone",
                      actor=STAFF, now=NOW)


def test_a_customer_reschedule_keeps_the_services(cutz):
    booking = _online(cutz, at(10))
    reschedule_booking(_tenant(cutz), booking, at(14), STAFF, now=NOW)
    assert (booking.starts_at, booking.ends_at) == (at(14), at(16))
    assert [i.name for i in items_of(booking.id)] == ["Cut", "Colour"]
