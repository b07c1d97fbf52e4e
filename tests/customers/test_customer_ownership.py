"""The rule "this customer record belongs to this account", written once in app.customers.ownership:
linked records always, records with the account's email only once that email is verified."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.booking.models import Customer
from app.customers.ownership import account_of, customer_ids_of, owned_by, owns_customer
from app.extensions import db
from app.identity.models import User
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user

pytestmark = pytest.mark.integration


def _customer(name: str, email: str, user_id=None) -> Customer:
    customer = Customer(name=name, email=email, user_id=user_id)
    db.session.add(customer)
    db.session.flush()
    return customer


def test_linked_and_verified_email_records_belong_to_the_account(ctx):
    bella, fixit = make_business("bella"), make_business("fixit")
    verified = db.session.get(User, make_user("cara@x.test"))
    unverified = db.session.get(User, make_user("dan@x.test", email_verified_at=None))
    with tenant_scope(bella.tenant_id):
        by_email = _customer("Cara", "cara@x.test")
        linked = _customer("Cara again", "c2@x.test", user_id=verified.id)
        dan = _customer("Dan", "dan@x.test")
        stranger = _customer("Eve", "eve@x.test")
        assert owns_customer(verified, by_email) and owns_customer(verified, linked)
        assert not owns_customer(verified, stranger)
        assert not owns_customer(unverified, dan)  # an unverified address claims nothing
        assert customer_ids_of(verified) == sorted([by_email.id, linked.id])
        assert customer_ids_of(unverified) == []
        assert account_of(by_email.id) == verified.id and account_of(linked.id) == verified.id
        assert account_of(dan.id) is None and account_of(stranger.id) is None
    with tenant_scope(fixit.tenant_id):
        elsewhere = _customer("Cara", "cara@x.test")
        assert customer_ids_of(verified) == [elsewhere.id]  # only the tenant in scope
    with platform_scope("test: a customer's records across businesses"):
        across = set(db.session.scalars(sa.select(Customer.id).where(owned_by(verified))))
    assert across == {by_email.id, linked.id, elsewhere.id}
