"""The confirmation email and its ``.ics`` list every service of a booking of several
("Cut + Colour"), each with its length and price."""

from __future__ import annotations

import pytest

from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.notifications.test_notifications import day_at
from tests.support.conftest_mail import calendar_of, html_of, run_jobs, text_of

pytestmark = pytest.mark.integration


def test_the_confirmation_lists_each_service(ctx, mailbox):
    biz = make_business("cutz", services=[("Cut", 30, 30000), ("Colour", 90, 90000)])
    with tenant_scope(biz.tenant_id):
        create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                       also_service_ids=[biz.service_ids[1]], staff_id=biz.staff_ids[0], start=day_at(3, 10),
                       customer=CustomerInput("Alice", "alice@example.com"), customer_timezone="Europe/Copenhagen")
        db.session.commit()
    relay_outbox()
    assert run_jobs(ctx) == []
    [msg] = mailbox.to("alice@example.com")
    text = text_of(msg)
    assert "What:   Cut + Colour (2 h) with Staff 1" in text
    assert "1. Cut (30 min, 300,00\xa0kr.)" in text and "2. Colour (1 h 30 min, 900,00\xa0kr.)" in text
    assert "Price:  1.200,00\xa0kr." in text
    assert "<li>Colour (1 h 30 min, 900,00\xa0kr.)</li>" in html_of(msg)
    [event] = calendar_of(msg).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Cut + Colour @ ")
    assert "- Colour (1 h 30 min)" in str(event["DESCRIPTION"])
