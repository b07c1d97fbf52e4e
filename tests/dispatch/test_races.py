"""Dispatch under concurrency: many threads racing on one request or one operator. The
guarantees hold because the database refuses the losers (conditional updates, partial unique
indexes), not because the threads happen to take turns."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.audit.service import AuditActor
from app.dispatch import offers
from app.dispatch.errors import DispatchError
from app.dispatch.models import DispatchOffer, DispatchRequest
from app.dispatch.requests import request_now
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from app.uow import unit_of_work
from tests.dispatch.helpers import CITY, customer, make_on_demand, offers_of, operator, request_row

pytestmark = pytest.mark.integration

LAT, LON = CITY
THREADS = 10


def race(app, n: int, work) -> list[str]:
    """Run ``work(i)`` in ``n`` threads released together; each returns an outcome string."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait(30)
            try:
                outcomes.append(work(i))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_many_accepts_of_one_offer_let_exactly_one_operator_through(app, ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT, LON)], capacity=5)
    with unit_of_work():
        rid = request_now(customer(), "Casey", "car-wash", LAT, LON).id
    offer_id = offers_of(rid)[0].id

    def accept(_: int) -> str:
        try:
            with tenant_scope(wash.tenant_id), unit_of_work():
                offers.accept_offer(operator(wash, "a@wash.test"), offer_id, AuditActor(wash.users["a@wash.test"]))
            return "accepted"
        except DispatchError:
            return "refused"

    assert sorted(race(app, THREADS, accept)) == ["accepted"] + ["refused"] * (THREADS - 1)
    assert request_row(rid).status == "accepted"
    with tenant_scope(wash.tenant_id):
        assert operator(wash, "a@wash.test").active_jobs == 1


def test_accept_against_decline_and_lapse_never_both_win(app, ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT, LON)], capacity=10)
    for round_ in range(6):
        with unit_of_work():
            rid = request_now(customer(), "Casey", "car-wash", LAT, LON).id
        offer_id = offers_of(rid)[0].id
        lapse_at = utcnow() + timedelta(milliseconds=60)
        with platform_scope("test"), unit_of_work():
            db.session.execute(sa.update(DispatchOffer).where(DispatchOffer.id == offer_id).values(expires_at=lapse_at))

        def work(i: int, rid=rid, offer_id=offer_id, lapse_at=lapse_at, round_=round_) -> str:
            time.sleep(max(0.0, (lapse_at - utcnow()).total_seconds() + (i - 1) * 0.002))
            try:
                with tenant_scope(wash.tenant_id), unit_of_work():
                    if i == 0:
                        offers.accept_offer(operator(wash, "a@wash.test"), offer_id,
                                            AuditActor(wash.users["a@wash.test"]))
                        return "accepted"
                    if i == 1 and round_ % 2:
                        offers.decline_offer(operator(wash, "a@wash.test"), offer_id)
                        return "declined"
                with unit_of_work():
                    return "lapsed" if offers.lapse_offer(rid, offer_id) else "refused"
            except DispatchError:
                return "refused"

        outcomes = race(app, 3, work)
        winners = [o for o in outcomes if o != "refused"]
        assert len(winners) == 1, outcomes
        final = request_row(rid)
        [offer] = offers_of(rid)
        assert offer.outcome == winners[0]
        assert final.status == ("accepted" if winners[0] == "accepted" else "unfulfilled")  # one operator only


def test_simultaneous_requests_never_give_one_operator_two_live_offers(app, ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT, LON)], capacity=10)
    cust = customer()

    def ask(i: int) -> str:
        with unit_of_work():
            return request_now(cust, "Casey", "car-wash", LAT + i * 0.0001, LON).status

    assert sorted(race(app, THREADS, ask)) == ["offered"] + ["unfulfilled"] * (THREADS - 1)
    with platform_scope("test"):
        live = db.session.scalar(sa.select(sa.func.count()).select_from(DispatchOffer).where(
            DispatchOffer.operator_id == wash.operators["a@wash.test"], DispatchOffer.outcome == "live"))
    assert live == 1


def test_the_database_refuses_a_second_live_or_accepted_offer_for_one_request(ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT, LON), ("b@wash.test", LAT, LON + 0.01)])
    with unit_of_work():
        rid = request_now(customer(), "Casey", "car-wash", LAT, LON).id
    for outcome in ("live", "accepted"):
        with platform_scope("test"), pytest.raises(IntegrityError), db.session.begin_nested():
            if outcome == "accepted":
                db.session.execute(sa.update(DispatchOffer).where(DispatchOffer.request_id == rid)
                                   .values(outcome="accepted"))
            db.session.add(DispatchOffer(id=uuid.uuid4(), tenant_id=wash.tenant_id, request_id=rid,
                                         operator_id=wash.operators["b@wash.test"], outcome=outcome,
                                         expires_at=utcnow()))
            db.session.flush()
    db.session.rollback()
    with platform_scope("test"):
        assert db.session.get(DispatchRequest, rid).status == "offered"
