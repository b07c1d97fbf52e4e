"""Recomputing a business's popular availability right after a change (``warm_availability``):
the job a change queues caches an answer without the slot just taken, a change committed while
the job computes is never hidden under the newer version, and a superseded run stores nothing."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from flask import current_app
from rq import Queue

from app.booking.desk import book_by_staff, desk_customer
from app.booking.service import Actor
from app.catalog.availability_version import WARM_JOB, WARM_QUEUE
from app.catalog.models import Service
from app.extensions import db
from app.redis_client import get_redis
from app.scheduling import service as scheduling_service
from app.scheduling.cache import current_version, entry_key
from app.scheduling.service import availability_json, find_slots, popular_range
from app.scheduling.tasks import warm_availability
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import zone
from tests.factories import make_business

pytestmark = pytest.mark.integration

STAFF = Actor("staff")


@pytest.fixture
def bella(ctx):
    biz = make_business("bella", lead_time_minutes=0)
    with tenant_scope(biz.tenant_id):
        yield biz


def _tenant(biz) -> Tenant:
    return db.session.get(Tenant, biz.tenant_id)


def _tomorrow_at(biz, hour: int) -> datetime:
    tenant = _tenant(biz)
    start, _ = popular_range(tenant)
    return datetime.combine(start + timedelta(days=1), time(hour), tzinfo=zone(tenant.timezone))


def _book_everyone(biz, start: datetime) -> None:
    customer = desk_customer("Carla", None, "+4522334455")
    for staff_id in biz.staff_ids:
        book_by_staff(_tenant(biz), service_id=biz.service_ids[0], staff_id=staff_id, start=start, customer=customer,
                      source="phone", actor=STAFF, notify_customer=False)
    db.session.commit()


def _doc(biz, *, version: int) -> bytes | None:
    """The API document cached for the popular range under ``version`` (raw), if any."""
    tenant = _tenant(biz)
    first, last = popular_range(tenant)
    key = entry_key(tenant.id, version, (
        "doc.v2", str(biz.service_ids[0]), "any", first.isoformat(), last.isoformat(),
        str(tenant.slot_interval_minutes), tenant.timezone))
    return get_redis().get(key)


def _api_starts(biz) -> set[datetime]:
    """Slot starts the API answers for the popular range now (from the cache when it holds them)."""
    tenant = _tenant(biz)
    first, last = popular_range(tenant)
    body = availability_json(tenant, biz.service_ids[0], staff_id=None, start_date=first, end_date=last,
                             tz_name=tenant.timezone)
    return {datetime.fromisoformat(s["start"]) for s in json.loads(body)["slots"]}


def test_a_booking_queues_the_job_whose_cached_answer_no_longer_offers_the_taken_slot(bella, monkeypatch):
    monkeypatch.setitem(current_app.config, "AVAILABILITY_WARM_AFTER_CHANGE", True)
    ten = _tomorrow_at(bella, 10)
    assert ten in _api_starts(bella)

    _book_everyone(bella, ten)

    version = current_version(get_redis(), bella.tenant_id)
    queued = [j for j in Queue(WARM_QUEUE, connection=get_redis()).jobs if j.func_name == WARM_JOB]
    assert queued and queued[-1].args == (str(bella.tenant_id), version)
    assert _doc(bella, version=version) is None  # nobody asked yet: cold
    assert warm_availability(*queued[-1].args) == len(bella.service_ids)
    assert _doc(bella, version=version) is not None  # the next customer finds it cached
    warm = _api_starts(bella)
    assert ten not in warm and ten + timedelta(hours=1) in warm
    # The storefront's entry (every performer, merged per start) agrees.
    tenant = _tenant(bella)
    first, last = popular_range(tenant)
    service = db.session.scalar(sa.select(Service).where(Service.id == bella.service_ids[0]))
    picker = {s.start for s in find_slots(tenant, service, staff_id=None, start_date=first, end_date=last,
                                          any_staff_merge=True)}
    assert picker == warm
    # And the cached answer is exactly what a cold computation gives.
    get_redis().incr(f"plaza:t:{bella.tenant_id}:avail:version")
    assert _api_starts(bella) == warm


def test_a_change_committed_while_the_job_computes_is_not_hidden_under_the_newer_version(bella, services,
                                                                                       monkeypatch):
    eleven = _tomorrow_at(bella, 11)
    customer = desk_customer("Carla", None, "+4522334455")
    db.session.commit()
    version = current_version(get_redis(), bella.tenant_id)
    original = scheduling_service.load_plans

    def load_then_someone_books(*args, **kwargs):
        plans = original(*args, **kwargs)  # the job has read the data: now another process books 11:00
        url = services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            conn.execute("select set_config('app.platform', 'on', false)")
            for staff_id in bella.staff_ids:
                conn.execute(
                    "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, "
                    "ends_at, blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, "
                    "source, created_at, updated_at) values (%s, %s, %s, %s, %s, 'confirmed', %s, %s, %s, %s, 0, "
                    "'DKK', 'Europe/Copenhagen', '', 'phone', now(), now())",
                    (bella.tenant_id, uuid.uuid4(), bella.service_ids[0], staff_id, customer.id, eleven,
                     eleven + timedelta(hours=1), eleven, eleven + timedelta(hours=1)))
        get_redis().incr(f"plaza:t:{bella.tenant_id}:avail:version")  # its commit's bump
        return plans

    monkeypatch.setattr(scheduling_service, "load_plans", load_then_someone_books)
    assert warm_availability(str(bella.tenant_id), version) == len(bella.service_ids)
    monkeypatch.undo()

    assert eleven in {datetime.fromisoformat(s["start"]) for s in json.loads(
        b'{"slots":[' + b",".join(scheduling_service.unpack_rendered(_doc(bella, version=version))[1]) + b"]}"
    )["slots"]}, "the job stored what it read, under the version it read first"
    assert _doc(bella, version=version + 1) is None
    assert eleven not in _api_starts(bella)


def test_a_run_superseded_by_a_later_change_stores_nothing(bella):
    version = current_version(get_redis(), bella.tenant_id)
    get_redis().incr(f"plaza:t:{bella.tenant_id}:avail:version")

    assert warm_availability(str(bella.tenant_id), version) == -1
    assert _doc(bella, version=version) is None and _doc(bella, version=version + 1) is None
