"""A business that asks for payment at booking: the confirmed quote's booking waits for the
customer's payment (the booking core's money policy, the same as a storefront booking), and the
manage page sends the customer to pay it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.audit.service import AuditActor
from app.booking.models import Booking
from app.extensions import db
from app.leads.confirm import confirm_quote
from app.payments.models import BookingPayment, ConnectAccount
from app.payments.policy import BusinessPolicy
from app.payments.settings import save_business_policy
from app.tenants.context import tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business
from tests.leads.customer_rows import make_lead, make_request
from tests.localstripe_server import running_localstripe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    """localstripe on a free 127.0.0.1 port for this module; yields its base URL."""
    with running_localstripe() as url:
        yield url


@pytest.fixture
def stripe_on(app, localstripe, monkeypatch):
    """Payments configured against localstripe (Connect local) for the test."""
    for key, value in {"STRIPE_SECRET_KEY": "sk_test_plaza", "STRIPE_API_BASE": localstripe,
                       "STRIPE_CONNECT": "local"}.items():
        monkeypatch.setitem(app.config, key, value)
    return localstripe


def test_a_business_asking_for_payment_gets_a_booking_awaiting_it(client, ctx, stripe_on):
    fixit = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    with tenant_scope(fixit.tenant_id):
        save_business_policy(BusinessPolicy(require_card=True))
        db.session.add(ConnectAccount(stripe_account_id="acct_local_test", charges_enabled=True,
                                      details_submitted=True, payouts_enabled=True))
        db.session.flush()
    db.session.commit()
    req = make_request()
    lead = make_lead(fixit.tenant_id, req.id, low=9000, high=14000)
    start = (datetime.now(ZoneInfo("America/New_York")).replace(hour=10, minute=0, second=0, microsecond=0)
             + timedelta(days=1))
    with unit_of_work():
        confirm_quote(req.id, lead, start, AuditActor(None))
    with tenant_scope(fixit.tenant_id):
        booking = db.session.scalar(sa.select(Booking))
        assert booking.status == "awaiting_payment"
        assert db.session.scalar(sa.select(BookingPayment).where(BookingPayment.booking_id == booking.id)) is not None
    db.session.remove()
    html = client.get(f"/requests/{req.id}?t={req.token}", base_url="http://localhost").get_data(as_text=True)
    assert "Booked with Fixit" in html and "Pay the deposit" in html
