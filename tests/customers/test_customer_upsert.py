"""The customer record under simultaneous bookings by the same person (issue 10, Concurrency):
one ``INSERT … ON CONFLICT DO UPDATE`` upsert, so parallel confirms from one new customer all
succeed and leave exactly one customer row, and a later booking updates name and phone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.booking.service import CustomerInput, upsert_customer
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import make_business, make_user
from tests.support.concurrency import post_bookings_at_once

pytestmark = pytest.mark.integration

PARALLEL = 5
DAY = date.today() + timedelta(days=5)



def test_parallel_confirms_from_one_new_customer_all_succeed_with_one_record(ctx, live_server):
    biz = make_business("bella", staff=PARALLEL, lead_time_minutes=0)
    zone = ZoneInfo(biz.timezone)
    payloads = [{"service_id": str(biz.service_ids[0]), "staff_id": str(staff_id),
                 "start": datetime.combine(DAY, time(10 + i), tzinfo=zone).isoformat(),
                 "customer": {"name": "Nora New", "email": "Nora.New@example.com"}}
                for i, staff_id in enumerate(biz.staff_ids)]
    responses = post_bookings_at_once(live_server, payloads)
    assert [r.status_code for r in responses] == [201] * PARALLEL, [r.text[:200] for r in responses]
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        customers = list(db.session.scalars(sa.select(Customer)))
        assert [(c.name, c.email) for c in customers] == [("Nora New", "nora.new@example.com")]
        owners = set(db.session.scalars(sa.select(Booking.customer_id)))
        assert owners == {customers[0].id}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == PARALLEL


def test_a_returning_customer_is_updated_not_duplicated(ctx):
    biz = make_business("bella")
    account = make_user("ann@example.com")
    with tenant_scope(biz.tenant_id):
        first = upsert_customer(CustomerInput("Ann", "ann@example.com", "+4512345678"))
        again = upsert_customer(CustomerInput("Ann Smith", " ANN@example.com ", None), user_id=account)
        assert again.id == first.id
        assert (again.name, again.phone, again.user_id) == ("Ann Smith", "+4512345678", account)
        other = make_user("other@example.com")
        still = upsert_customer(CustomerInput("", "ann@example.com", "+4587654321"), user_id=other)
        assert (still.name, still.phone, still.user_id) == ("Ann Smith", "+4587654321", account)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
