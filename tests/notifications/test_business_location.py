"""Emails' "Where:" lines and the ``.ics`` LOCATION show the business's address once it has
one (business settings), and only its name before."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.notifications.test_notifications import book, business, day_at
from tests.support.conftest_mail import calendar_of, html_of, run_jobs, text_of

pytestmark = pytest.mark.integration

WHERE = "Bella Hair Studio, Nørregade 12, 1165 København, Denmark"


def _mail_for_a_booking(ctx, mailbox, biz):
    book(biz, day_at(3, 10))
    relay_outbox()
    assert run_jobs(ctx) == []
    [msg] = mailbox.to("alice@example.com")
    return msg


def test_where_and_location_show_the_address(ctx, mailbox):
    biz = business()
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        tenant.address_line, tenant.postcode, tenant.city, tenant.country = "Nørregade 12", "1165", "København", "DK"
        db.session.commit()
    msg = _mail_for_a_booking(ctx, mailbox, biz)
    assert f"Where:  {WHERE}" in text_of(msg)
    assert f"<td>{WHERE}</td>" in html_of(msg)
    [event] = calendar_of(msg).walk("VEVENT")
    assert str(event["LOCATION"]) == WHERE


def test_without_an_address_they_name_the_business(ctx, mailbox):
    msg = _mail_for_a_booking(ctx, mailbox, business())
    assert "Where:  Bella Hair Studio\r\n" in text_of(msg)
    [event] = calendar_of(msg).walk("VEVENT")
    assert str(event["LOCATION"]) == "Bella Hair Studio"
