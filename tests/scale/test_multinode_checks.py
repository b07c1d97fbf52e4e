"""The multi-node load test's own checks (:mod:`bench.multinode`) see what they look for: an
overlap of two live bookings once the exclusion constraint no longer stops it, and a
confirmation email sent twice."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from bench.multinode import confirmations, overlapping, stats_table
from tests.factories import make_business
from tests.support.conftest_mail import Mailbox

pytestmark = pytest.mark.integration


def test_the_double_booking_query_finds_two_live_bookings_of_one_staff_member_that_overlap(ctx, services):
    biz = make_business(staff=1)
    cph = ZoneInfo("Europe/Copenhagen")
    start = datetime.combine((utcnow() + timedelta(days=3)).astimezone(cph).date(), time(10), cph)
    with tenant_scope(biz.tenant_id):
        create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                       staff_id=biz.staff_ids[0], start=start, customer=CustomerInput("Ann", "ann@example.com"),
                       customer_timezone="Europe/Copenhagen")
        db.session.commit()
    owner = services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(owner) as conn:  # one transaction, rolled back: the constraint comes back
        assert overlapping(conn) == []
        conn.execute("alter table booking drop constraint booking_no_overlap")
        conn.execute("insert into booking select (jsonb_populate_record(null::booking, "
                     "to_jsonb(b) || jsonb_build_object('id', gen_random_uuid()))).* from booking b")
        found = overlapping(conn)
        conn.rollback()
    assert len(found) == 1
    assert found[0][:2] == (biz.tenant_id, biz.staff_ids[0])


def confirmation(to: str, kind: str = "confirmed") -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = "Booking confirmed"
    msg["X-Plaza-Kind"] = kind
    return msg


def test_confirmations_are_counted_per_recipient_and_only_confirmations_count():
    box = Mailbox()
    box.messages += [confirmation("a@example.com"), confirmation("b@example.com"), confirmation("a@example.com"),
                     confirmation("b@example.com", kind="reminder24h")]
    assert confirmations(box) == {"a@example.com": 2, "b@example.com": 1}


def test_the_latency_table_has_a_row_per_endpoint_with_its_p99_and_the_total_last():
    rows = [{"Type": "", "Name": "Aggregated", "Request Count": "3", "Failure Count": "0", "50%": "5", "95%": "9",
             "99%": "9", "Max Response Time": "9.2"},
            {"Type": "GET", "Name": "GET storefront /", "Request Count": "3", "Failure Count": "0", "50%": "5",
             "95%": "9", "99%": "9", "Max Response Time": "9.2"}]
    lines = stats_table(rows).splitlines()
    assert lines[2] == "| GET storefront / | GET | 3 | 0 | 5 | 9 | 9 | 9 |"
    assert lines[3].startswith("| Aggregated | all | 3 |")
