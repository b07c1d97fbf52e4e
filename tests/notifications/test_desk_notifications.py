"""What a customer hears of a booking staff took at the front desk: the confirmation when
"Notify the customer" stays ticked, nothing when staff unticked it, and never a message to the
placeholder address of a phone-only customer (reminders included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.desk import book_by_staff, desk_customer
from app.booking.service import Actor
from app.delivery.models import Delivery
from app.extensions import db
from app.notifications.tasks import sweep_due_reminders
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.support.conftest_mail import subject_of
from tests.support.notification_support import bella, day_at, deliver_all

pytestmark = pytest.mark.integration


def _desk_booking(biz, start, *, name, email, phone, notify):
    with tenant_scope(biz.tenant_id):
        customer = desk_customer(name, email, phone)
        booking = book_by_staff(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                staff_id=biz.staff_ids[0], start=start, customer=customer, source="phone",
                                actor=Actor("staff"), notify_customer=notify)
        booking_id, address = booking.id, customer.email
        db.session.commit()
    return booking_id, address


def test_a_desk_booking_confirms_by_email_only_when_notify_stays_ticked(ctx, mailbox):
    biz = bella()
    _desk_booking(biz, day_at(3, 10), name="Tina Told", email="tina@example.com", phone=None, notify=True)
    _desk_booking(biz, day_at(3, 12), name="Quinn Quiet", email="quinn@example.com", phone=None, notify=False)
    deliver_all(ctx)
    [told] = mailbox.to("tina@example.com")
    assert subject_of(told).startswith("Booking confirmed")
    assert mailbox.to("quinn@example.com") == []


def test_a_phone_only_customer_has_no_email_and_gets_nothing_sent(ctx, mailbox):
    biz = bella()
    start = day_at(3, 10)
    booking_id, address = _desk_booking(biz, start, name="Paula Phone", email=None, phone="+4522334455", notify=True)
    assert address is None
    deliver_all(ctx)
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=59)) == 0  # the 24 h reminder has nowhere to go
    deliver_all(ctx)
    assert mailbox.messages == []
    with tenant_scope(biz.tenant_id):
        rows = db.session.execute(sa.select(Delivery.status, Delivery.error)
                                  .where(Delivery.dedup_key.startswith(f"booking:{booking_id}:reminder24"))).all()
    assert [r.status for r in rows] == ["undeliverable"]
    assert "no email address on record" in rows[0].error
    # Recorded once: a later sweep does not try again.
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=50)) == 0
