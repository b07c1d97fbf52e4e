"""The outbox: :func:`app.outbox.events.emit` writes an event once per dedup key, even when two
transactions on two connections emit the same key at the same time."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.outbox.events import NoTenantInScope, emit
from app.outbox.models import OutboxEvent
from app.tenants.context import tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business

pytestmark = pytest.mark.integration


def _count(tenant_id, kind: str) -> int:
    with tenant_scope(tenant_id):
        db.session.expire_all()
        n = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.kind == kind))
        db.session.commit()
        return n


def test_two_emits_with_one_dedup_key_write_one_event(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), unit_of_work():
        first = emit("payment.received", {"amount": 25000}, dedup_key="payment.received:pi_1")
        second = emit("payment.received", {"amount": 25000}, dedup_key="payment.received:pi_1")
        other = emit("payment.received", {"amount": 100}, dedup_key="payment.received:pi_2")
        plain = [emit("booking.completed", {"booking_id": "b"}) for _ in range(2)]
    assert first is not None and other is not None and second is None
    assert all(plain)  # no key: every emit writes
    assert _count(biz.tenant_id, "payment.received") == 2
    assert _count(biz.tenant_id, "booking.completed") == 2
    with tenant_scope(biz.tenant_id):
        row = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == first))
        assert (row.dedup_key, row.payload) == ("payment.received:pi_1", {"amount": 25000})
        db.session.commit()


def test_the_same_key_in_two_businesses_is_two_events(ctx):
    bella, nina = make_business("bella"), make_business("nina")
    for biz in (bella, nina):
        with tenant_scope(biz.tenant_id), unit_of_work():
            assert emit("refund.issued", {}, dedup_key="refund.issued:re_1") is not None
    assert _count(bella.tenant_id, "refund.issued") == 1
    assert _count(nina.tenant_id, "refund.issued") == 1


def test_concurrent_emits_with_one_dedup_key_on_two_connections_write_one_event(ctx, app):
    biz = make_business("bella")
    first_written = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with app.app_context():
            try:
                with tenant_scope(biz.tenant_id), unit_of_work():
                    results["first"] = emit("fee.collected", {"n": 1}, dedup_key="fee:1")
                    first_written.set()
                    time.sleep(0.5)  # the second connection's insert waits on this uncommitted row
            finally:
                db.session.remove()

    def second() -> None:
        first_written.wait(10)
        with app.app_context():
            try:
                started = time.monotonic()
                with tenant_scope(biz.tenant_id), unit_of_work():
                    results["second"] = emit("fee.collected", {"n": 2}, dedup_key="fee:1")
                results["waited"] = time.monotonic() - started
            finally:
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["first"] is not None
    assert results["second"] is None
    assert results["waited"] >= 0.3  # it really ran while the first transaction was open
    assert _count(biz.tenant_id, "fee.collected") == 1


def test_emit_needs_a_tenant(ctx):
    with pytest.raises(NoTenantInScope):
        emit("booking.confirmed", {})
