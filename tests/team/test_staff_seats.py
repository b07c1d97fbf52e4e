"""The plan's staff seats are enforced in the domain (app.team.staff), not only in the
dashboard view: a direct call is refused, and two requests racing for the last seat cannot
both win (a transaction-scoped advisory lock serialises the count and the insert)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.billing.errors import StaffSeatLimit
from app.catalog.models import StaffMember
from app.extensions import db
from app.team.staff import add_staff_member, update_staff_profile
from app.tenants.context import tenant_scope
from tests.factories import make_business

pytestmark = pytest.mark.integration


@pytest.fixture
def billing_on(app, monkeypatch):
    """Billing configured (every business without a subscription is on Free: 2 seats)."""
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_local")


def _active(tenant_id) -> int:
    with tenant_scope(tenant_id):
        return db.session.scalar(sa.select(sa.func.count()).select_from(StaffMember)
                                 .where(StaffMember.active.is_(True)))


@pytest.mark.usefixtures("billing_on")
def test_a_direct_domain_call_beyond_the_seats_is_refused(ctx):
    biz = make_business("bella", staff=2)  # Free: 2 seats, both taken
    with tenant_scope(biz.tenant_id):
        with pytest.raises(StaffSeatLimit):
            add_staff_member(name="Third")
        inactive = add_staff_member(name="Third, inactive", active=False)  # no seat needed
        with pytest.raises(StaffSeatLimit):
            update_staff_profile(inactive, name="Third", active=True)
        db.session.commit()
    assert _active(biz.tenant_id) == 2


def test_without_billing_there_is_no_limit(ctx):
    biz = make_business("bella", staff=2)
    with tenant_scope(biz.tenant_id):
        add_staff_member(name="Third")
        db.session.commit()
    assert _active(biz.tenant_id) == 3


@pytest.mark.usefixtures("billing_on")
def test_two_requests_racing_for_the_last_seat_cannot_both_win(app, ctx):
    biz = make_business("bella", staff=1)  # one seat left
    first_added, let_first_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with app.app_context(), tenant_scope(biz.tenant_id):
            add_staff_member(name="First")
            first_added.set()
            let_first_commit.wait(10)
            db.session.commit()
            outcome["first"] = "added"

    def second() -> None:
        first_added.wait(10)
        with app.app_context(), tenant_scope(biz.tenant_id):
            try:
                add_staff_member(name="Second")  # waits for the first's lock, then counts its member
                db.session.commit()
                outcome["second"] = "added"
            except StaffSeatLimit:
                db.session.rollback()
                outcome["second"] = "refused"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        first_added.wait(10)
        threading.Event().wait(0.5)  # give the second time to block on the lock
        assert "second" not in outcome  # it waits: the count is not taken while the first is open
    finally:
        let_first_commit.set()
        for t in threads:
            t.join(20)
    assert outcome == {"first": "added", "second": "refused"}
    assert _active(biz.tenant_id) == 2
