"""Customers known by phone only have no email (NULL), not a placeholder address: the desk
finds them again by number, merging one into a record with an email keeps that email,
exporting and erasing work, and migration k11m2 clears the old placeholders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.audit.service import AuditActor
from app.booking.desk import desk_customer
from app.booking.models import Customer
from app.crm import erase_customer, export_customer, merge_customers
from app.customers.service import update_contact
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import make_business

pytestmark = pytest.mark.integration

DESK = AuditActor(None)
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "k11m2_phone_only_customers.py"


def _migration():
    spec = importlib.util.spec_from_file_location("k11m2_phone_only_customers", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_desk_matches_a_caller_by_number_even_when_they_have_an_email(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        known = desk_customer("Dora Mail", "dora@example.com", "+4522334455")
        assert desk_customer("Dora", None, "+4522334455").id == known.id
        one, two = desk_customer("Per", None, "+4511111111"), desk_customer("Pia", None, "+4522222222")
        assert one.email is None and two.email is None and one.id != two.id  # NULLs never collide


def test_a_phone_only_record_can_be_given_an_email_and_merged_exported_and_erased(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        phone_only = desk_customer("Carla", None, "+4522334455")
        update_contact(phone_only, DESK, name="Carla", email="", phone="+4522334455")
        assert phone_only.email is None
        mailed = desk_customer("Carla Mail", "carla@example.com", None)
        merge_customers(phone_only, mailed, DESK, reason="same person")
        db.session.commit()
        kept = db.session.scalar(sa.select(Customer).where(Customer.id == phone_only.id))
        assert (kept.email, kept.phone) == ("carla@example.com", "+4522334455")
        other = desk_customer("Ole", None, "+4533333333")
        assert export_customer(other, DESK)["profile"]["email"] is None
        erase_customer(kept, DESK, reason="asked on the phone")
        db.session.commit()
        assert (kept.email, kept.phone, kept.name) == (None, None, "Deleted customer")


def test_migration_clears_the_placeholder_addresses(ctx, services):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        db.session.add_all([Customer(name="Old", email="4522334455@phone.invalid", phone="+4522334455"),
                            Customer(name="Gone", email="deleted-ab12@erased.invalid"),
                            Customer(name="Real", email="real@example.com")])
        db.session.commit()
    engine = sa.create_engine(services["OWNER_URL"])
    try:
        with engine.begin() as conn:
            assert _migration().clear_placeholders(conn) == 2
    finally:
        engine.dispose()
    db.session.expire_all()
    with tenant_scope(biz.tenant_id):
        emails = dict(db.session.execute(sa.select(Customer.name, Customer.email)).all())
    assert emails == {"Old": None, "Gone": None, "Real": "real@example.com"}
