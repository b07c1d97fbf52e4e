"""Migration k11m1_booking_items: every booking made before it gets one item (its service, its
length, its price and its buffers), so single-service bookings read as before."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.booking.items import items_of
from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "k11m1_booking_items.py"
NOW = datetime(2027, 2, 25, 8, 0, tzinfo=UTC)


def _migration():
    spec = importlib.util.spec_from_file_location("k11m1_booking_items", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_backfill_gives_each_old_booking_one_item(ctx, services):
    biz = make_business("oldie", buffer_after=10, horizon_days=365)
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0], staff_id=None,
                                 start=datetime(2027, 3, 1, 9, 0, tzinfo=UTC), now=NOW,
                                 customer=CustomerInput("Ann", "ann@example.com"), customer_timezone="UTC")
        booking_id = booking.id
        db.session.commit()
    engine = sa.create_engine(services["OWNER_URL"])
    try:
        with engine.begin() as conn:  # as before the migration: no items anywhere
            conn.execute(sa.text("select set_config('app.platform', 'on', true)"))
            conn.execute(sa.text("delete from booking_item"))
        with engine.begin() as conn:
            assert _migration().backfill_items(conn) == 1
        with engine.begin() as conn:
            assert _migration().backfill_items(conn) == 0  # run twice, nothing doubles
    finally:
        engine.dispose()
    db.session.expire_all()
    with tenant_scope(biz.tenant_id):
        [item] = items_of(booking_id)
        assert (item.name, item.duration_minutes, item.price_amount, item.currency, item.buffer_before_minutes,
                item.buffer_after_minutes, item.position) == ("Haircut", 60, 50000, "DKK", 0, 10, 0)
