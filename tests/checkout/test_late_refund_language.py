"""The late-refund email speaks its customer's language: the language they booked in (their
account's choice first), not the worker's; money and wording Danish for a Danish guest and English
for an English one of the same business, through the real RQ worker and SMTP catcher."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.jobs.runner import enqueue
from app.outbox.events import emit
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.uow import unit_of_work
from tests.factories import make_business
from tests.support.conftest_mail import html_of, run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

CPH = ZoneInfo("Europe/Copenhagen")


def refunded_booking(biz, email: str, locale: str, hour: int) -> tuple[uuid.UUID, uuid.UUID]:
    """A booking by ``email`` made in ``locale``, and a late-refund event of 649.00 kr. for it."""
    start = datetime.combine(datetime.now(CPH).date() + timedelta(days=3), time(hour), tzinfo=CPH).astimezone(UTC)
    with tenant_scope(biz.tenant_id), unit_of_work():
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=None, start=start,
                                 customer=CustomerInput(email.split("@")[0].title(), email),
                                 customer_timezone="Europe/Copenhagen")
        db.session.execute(sa.update(Booking).where(Booking.id == booking.id).values(locale=locale))
        event_id = emit("test.late_refund", {"booking_id": str(booking.id), "amount": 64900, "cause": "hold_expired"})
        booking_id = booking.id
    return booking_id, event_id


def test_the_late_refund_email_is_in_the_language_the_customer_booked_in(app, ctx, mailbox):
    biz = make_business("bella", services=[("Haircut", 60, 64900)])
    for email, locale, hour in (("dorthe@example.com", "da", 10), ("erin@example.com", "en", 12)):
        booking_id, event_id = refunded_booking(biz, email, locale, hour)
        enqueue("app.checkout.tasks.send_late_refund_email", str(biz.tenant_id), str(booking_id), str(event_id))
    assert run_jobs(app) == []

    [danish] = mailbox.to("dorthe@example.com")
    assert subject_of(danish) == "Din betaling til Bella er refunderet"
    assert "649,00\xa0kr." in text_of(danish) and "649,00\xa0kr." in html_of(danish)
    assert "Hej Dorthe" in text_of(danish) and "refunded" not in text_of(danish)

    [english] = mailbox.to("erin@example.com")
    assert subject_of(english) == "Your payment to Bella was refunded"
    assert "Hello Erin," in text_of(english) and "We have refunded" in text_of(english)
