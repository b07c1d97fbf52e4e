"""Guarantees of the job and delivery plumbing: a step in its own transaction commits apart
from the unit of work around it; a job that cannot succeed ends without a retry; every outbox
router and periodic job resolves; the logging SMS provider keeps a bounded memory."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa

from app.delivery.mailer import UndeliverableAddress
from app.delivery.models import Delivery
from app.delivery.sms import LoggingSmsProvider
from app.extensions import db
from app.jobs.periodic import PERIODIC_JOBS
from app.jobs.runner import run_in_tenant
from app.outbox.relay import ROUTERS, resolve_router
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from app.uow import own_transaction, unit_of_work
from tests.factories import make_business

pytestmark = pytest.mark.integration


def _delivery(key: str) -> Delivery:
    return Delivery(dedup_key=key, channel="email", recipient="a@example.com", subject="s", status="sent",
                    attempts=1, created_at=utcnow())


def _keys(tenant_id) -> set[str]:
    with tenant_scope(tenant_id):
        db.session.expire_all()
        keys = set(db.session.scalars(sa.select(Delivery.dedup_key)))
        db.session.commit()
        return keys


def test_own_transaction_commits_even_when_the_surrounding_unit_rolls_back(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        with pytest.raises(RuntimeError), unit_of_work():
            db.session.add(_delivery("outer"))
            db.session.flush()
            with own_transaction() as session:
                session.add(_delivery("own"))
            raise RuntimeError("the unit fails after the claim")
    assert _keys(biz.tenant_id) == {"own"}


def test_own_transaction_rolls_back_its_own_work_on_error(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), pytest.raises(ValueError), own_transaction() as session:
        session.add(_delivery("never"))
        session.flush()
        raise ValueError("boom")
    assert _keys(biz.tenant_id) == set()


def test_a_permanent_failure_ends_the_job_with_its_outcome_and_writes_nothing(ctx):
    biz = make_business("bella")

    def job() -> str:
        db.session.add(_delivery("half-done"))
        db.session.flush()
        raise UndeliverableAddress("bad header")

    assert run_in_tenant(str(biz.tenant_id), job) == "undeliverable"
    assert _keys(biz.tenant_id) == set()


def test_every_router_and_periodic_job_resolves_to_a_function():
    for path in ROUTERS:
        assert callable(resolve_router(path))
    names = [job.name for job in PERIODIC_JOBS]
    assert len(names) == len(set(names))
    for job in PERIODIC_JOBS:
        module, _, name = job.func_name.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


def test_the_logging_sms_provider_keeps_only_the_latest_messages():
    provider = LoggingSmsProvider(keep=3)
    ids = [provider.send("+4512345678", f"message {i}") for i in range(5)]
    assert ids[-1] == "log-5" and provider.count == 5
    assert [body for _, body in provider.sent] == ["message 2", "message 3", "message 4"]
