"""The dispatch engine and the offer life cycle, on the real database and Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.dispatch import offers, tasks
from app.dispatch.errors import InvalidTransition, OfferGone
from app.dispatch.models import DispatchOffer
from app.dispatch.operators import set_availability
from app.dispatch.requests import request_now
from app.extensions import db
from app.redis_client import get_redis
from app.tenants.context import platform_scope, tenant_scope
from app.uow import unit_of_work
from tests.dispatch.helpers import CITY, customer, make_on_demand, offers_of, operator, request_row

pytestmark = pytest.mark.integration

LAT, LON = CITY


def ask(service: str = "car-wash"):
    with unit_of_work():
        req = request_now(customer(), "Casey", service, LAT, LON, "5th Ave")
    return req.id


def test_the_nearest_qualified_online_operator_gets_the_only_offer(ctx):
    wash = make_on_demand("wash", ["car-wash"], [("near@wash.test", LAT + 0.01, LON), ("far@wash.test", LAT + 0.05, LON)])
    make_on_demand("clean", ["cleaning"], [("closest@clean.test", LAT, LON)])  # another service
    rid = ask()
    [offer] = offers_of(rid)
    assert (offer.tenant_id, offer.operator_id) == (wash.tenant_id, wash.operators["near@wash.test"])
    assert request_row(rid).status == "offered"
    assert 1.0 < offer.distance_km < 1.3
    assert offer.expires_at - offer.offered_at == timedelta(seconds=45)


def test_offline_and_stale_operators_are_not_offered(ctx):
    wash = make_on_demand("wash", ["car-wash"], [("off@wash.test", LAT, LON), ("stale@wash.test", LAT, LON + 0.01),
                                                 ("live@wash.test", LAT + 0.04, LON)])
    with tenant_scope(wash.tenant_id), unit_of_work():
        set_availability(operator(wash, "off@wash.test"), False, 1)
    get_redis().delete(f"dispatch:alive:{wash.tenant_id}:{wash.operators['stale@wash.test']}")
    rid = ask()
    assert [o.operator_id for o in offers_of(rid)] == [wash.operators["live@wash.test"]]


def test_decline_and_lapse_cascade_until_nobody_is_left(ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT + 0.001, LON), ("b@wash.test", LAT + 0.02, LON)])
    rid = ask()
    first = offers_of(rid)[0]
    with tenant_scope(wash.tenant_id), unit_of_work():
        offers.decline_offer(operator(wash, "a@wash.test"), first.id)
    second = offers_of(rid)[1]
    assert second.operator_id == wash.operators["b@wash.test"] and request_row(rid).status == "offered"
    assert not offers.lapse_offer(rid, second.id)  # its window has not passed
    with platform_scope("test"), unit_of_work():
        db.session.execute(sa.update(DispatchOffer).where(DispatchOffer.id == second.id)
                           .values(expires_at=second.offered_at))
    with unit_of_work():
        assert tasks.sweep() == 1
    assert [o.outcome for o in offers_of(rid)] == ["declined", "lapsed"]
    assert request_row(rid).status == "unfulfilled"
    with platform_scope("test"):
        assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.object_id == str(rid))) \
            == "dispatch.unfulfilled"


def test_an_accepted_job_runs_to_done_and_counts_as_expertise(ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT + 0.01, LON)])
    rid = ask()
    offer = offers_of(rid)[0]
    with tenant_scope(wash.tenant_id), unit_of_work():
        req = offers.accept_offer(operator(wash, "a@wash.test"), offer.id, actor=_actor(wash, "a@wash.test"))
        assert req.status == "accepted" and req.eta_minutes == 6  # 1.1 km at 25 km/h + 3
    with tenant_scope(wash.tenant_id), unit_of_work(), pytest.raises(OfferGone):
        offers.accept_offer(operator(wash, "a@wash.test"), offer.id, actor=_actor(wash, "a@wash.test"))
    for step in ("on_the_way", "arrived", "done"):
        with tenant_scope(wash.tenant_id), unit_of_work():
            offers.advance_request(operator(wash, "a@wash.test"), rid, step)
    with tenant_scope(wash.tenant_id):
        op = operator(wash, "a@wash.test")
        assert (op.active_jobs, op.completed) == (0, {"car-wash": 1})
    assert request_row(rid).status == "done"


def test_an_operator_at_capacity_is_skipped_and_a_customer_cancels_before_arrival(ctx):
    wash = make_on_demand("wash", ["car-wash"], [("a@wash.test", LAT, LON), ("b@wash.test", LAT + 0.03, LON)])
    first = ask()
    with tenant_scope(wash.tenant_id), unit_of_work():
        offers.accept_offer(operator(wash, "a@wash.test"), offers_of(first)[0].id, actor=_actor(wash, "a@wash.test"))
    second = ask()
    assert offers_of(second)[0].operator_id == wash.operators["b@wash.test"]  # a is at capacity 1
    with unit_of_work():
        offers.cancel_request(first, request_row(first).user_id, actor=_actor(wash, "a@wash.test"))
    with tenant_scope(wash.tenant_id):
        assert operator(wash, "a@wash.test").active_jobs == 0
    with tenant_scope(wash.tenant_id), unit_of_work(), pytest.raises(InvalidTransition):
        offers.advance_request(operator(wash, "a@wash.test"), first, "on_the_way")
    assert request_row(first).status == "cancelled"


def _actor(biz, email):
    from app.audit.service import AuditActor

    return AuditActor(biz.users[email])
