"""The amount a booking of several services asks when booking (app.checkout.totals): each
service's payment rule on its own booked price, added up; one service asks what its rule asks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.booking.service import CustomerInput, create_booking
from app.catalog.models import Service
from app.checkout.totals import booking_amount_due, services_ask_payment
from app.extensions import db
from app.payments.policy import PaymentMode, ServiceRule
from app.payments.settings import save_service_rule
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

NOW = datetime(2027, 2, 25, 8, 0, tzinfo=UTC)


def _book(biz, service_ids, hour):
    return create_booking(db.session.get(Tenant, biz.tenant_id), service_id=service_ids[0],
                          also_service_ids=service_ids[1:], staff_id=None,
                          start=datetime(2027, 3, 1, hour, 0, tzinfo=UTC), now=NOW,
                          customer=CustomerInput("Ann", "ann@example.com"), customer_timezone="UTC")


def test_each_service_asks_its_own_rule_on_its_price(ctx):
    biz = make_business("cutz", services=[("Cut", 30, 30000), ("Colour", 90, 90000)], horizon_days=365)
    cut, colour = biz.service_ids
    with tenant_scope(biz.tenant_id):
        save_service_rule(colour, ServiceRule(PaymentMode.DEPOSIT, 20, None))
        services = {s.id: s for s in db.session.scalars(sa.select(Service))}
        assert not services_ask_payment([services[cut]])
        assert services_ask_payment([services[cut], services[colour]])
        both = _book(biz, [cut, colour], 9)
        assert (both.price_amount, booking_amount_due(both)) == (120000, 18000)  # 20 % of the colour only
        save_service_rule(cut, ServiceRule(PaymentMode.FULL))
        assert booking_amount_due(both) == 30000 + 18000
        alone = _book(biz, [colour], 13)
        assert booking_amount_due(alone) == 18000
