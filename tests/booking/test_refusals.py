"""Why a start cannot be booked (app.booking.refusals.slot_refusal) and the caller's own
booking at a time (own_booking_at), against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.booking.refusals import SlotRefusal, own_booking_at, slot_refusal
from app.booking.service import CustomerInput, create_booking
from app.catalog.models import Service
from app.catalog.service import add_time_off
from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business, make_user

pytestmark = pytest.mark.integration

CPH = ZoneInfo("Europe/Copenhagen")


def local(days: int, hh: int, mm: int = 0) -> datetime:
    day = utcnow().astimezone(CPH).date() + timedelta(days=days)
    return datetime.combine(day, time(hh, mm), tzinfo=CPH).astimezone(UTC)


def test_each_reason_a_start_is_refused(ctx):
    biz = make_business("bella", staff=1, lead_time_minutes=120, horizon_days=30)
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        service = db.session.get(Service, (biz.tenant_id, biz.service_ids[0]))
        staff = biz.staff_ids[0]
        now = utcnow()
        assert slot_refusal(tenant, service, None, local(3, 10)) is None
        assert slot_refusal(tenant, service, staff, now - timedelta(minutes=5)) == SlotRefusal.PAST
        assert slot_refusal(tenant, service, staff, now + timedelta(minutes=30)) == SlotRefusal.TOO_SOON
        assert slot_refusal(tenant, service, staff, local(40, 10)) == SlotRefusal.TOO_FAR
        assert slot_refusal(tenant, service, staff, local(3, 3)) == SlotRefusal.CLOSED  # night
        assert slot_refusal(tenant, service, staff, local(3, 10, 7)) == SlotRefusal.CLOSED  # off the grid
        create_booking(tenant, service_id=service.id, staff_id=staff, start=local(3, 10),
                       customer=CustomerInput("Ann", "ann@example.com"), customer_timezone="Europe/Copenhagen")
        db.session.commit()  # the availability cache moves on at the commit
        assert slot_refusal(tenant, service, staff, local(3, 10)) == SlotRefusal.TAKEN
        assert slot_refusal(tenant, service, None, local(3, 10)) == SlotRefusal.TAKEN
        # Off the grid yet overlapping the booking: never offered, so not "taken".
        assert slot_refusal(tenant, service, staff, local(3, 10, 7)) == SlotRefusal.CLOSED
        add_time_off(staff, local(4, 9), local(4, 17), "course")
        db.session.commit()
        assert slot_refusal(tenant, service, staff, local(4, 10)) == SlotRefusal.CLOSED


def test_own_booking_needs_proof(ctx):
    biz = make_business("bella", staff=1)
    uid = make_user("ann@example.com")
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        start = local(3, 10)
        booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=None, start=start,
                                 customer=CustomerInput("Ann", "ann@example.com"),
                                 customer_timezone="Europe/Copenhagen", user_id=uid)
        sid = biz.service_ids[0]
        assert own_booking_at(sid, start) is None  # no proof at all
        assert own_booking_at(sid, start, booking_ids=[booking.id]) is booking
        assert own_booking_at(sid, start, booking_ids=[booking.id], email="ANN@example.com") is booking
        assert own_booking_at(sid, start, booking_ids=[booking.id], email="bob@example.com") is None
        assert own_booking_at(sid, start, user_id=uid) is booking
        other = find_user("owner@bella.test").id
        assert own_booking_at(sid, start, user_id=other) is None
        assert own_booking_at(sid, local(3, 11), booking_ids=[booking.id]) is None
        booking.status = "cancelled"
        db.session.flush()
        assert own_booking_at(sid, start, booking_ids=[booking.id]) is None
        db.session.rollback()
