"""Stripe chargebacks (``charge.dispute.*``) through the billing webhook ledger land in the same
dispute record as the customer's own, with Stripe's evidence deadline; replays and late, older
events change nothing."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from app.audit.service import SYSTEM_ACTOR
from app.billing.tasks import process_webhook_event
from app.billing.webhooks import record_event
from app.booking.models import Booking
from app.disputes.models import Dispute
from app.disputes.service import open_case
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.tenants.context import tenant_scope
from tests.payments.test_payments import (  # noqa: F401 - fixtures used by name
    _smtp,
    book_direct,
    local_start,
    localstripe,
    pay,
    setup_business,
    stripe_on,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("stripe_on")]

DUE = int(time.time()) + 10 * 24 * 3600


def event(pi: str, status: str, kind: str = "updated") -> dict:
    return {"id": f"evt_{uuid.uuid4().hex[:16]}", "type": f"charge.dispute.{kind}", "object": "event",
            "data": {"object": {"id": "dp_test_1", "object": "dispute", "payment_intent": pi, "amount": 50000,
                                "currency": "dkk", "reason": "product_unacceptable", "status": status,
                                "evidence_details": {"due_by": DUE}}}}


def deliver(evt: dict) -> str:
    """Record and process ``evt`` as the webhook endpoint and its job do (platform role, own units of work)."""
    run_on_platform(record_event, evt)
    return process_webhook_event(evt["id"])


def cases(biz) -> list[tuple]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return [(c.status, c.stripe_status, c.reason, c.decision, c.stripe_evidence_due_at is not None)
                for c in db.session.scalars(sa.select(Dispute))]


def test_chargeback_opens_updates_and_closes_one_record_in_any_order(ctx):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    pay(biz, bid)
    created = event(pi, "needs_response", "created")
    assert deliver(created) == "processed"
    assert cases(biz) == [("awaiting_business", "needs_response", "poor_quality", None, True)]
    assert deliver(created) == "skipped"  # the same event again: the ledger stops it
    assert deliver(event(pi, "needs_response", "created")) == "processed"  # a re-sent copy: still one record
    closed = event(pi, "lost", "closed")
    deliver(closed)
    assert cases(biz) == [("closed", "lost", "poor_quality", "full_refund", True)]
    deliver(event(pi, "under_review"))  # an older update arriving late
    assert cases(biz) == [("closed", "lost", "poor_quality", "full_refund", True)]


def test_chargeback_for_an_unknown_payment_is_ignored(ctx):
    assert deliver(event("pi_unknown", "needs_response", "created")) == "processed"
    db.session.rollback()


def test_chargeback_on_a_booking_the_customer_disputed_updates_that_dispute(ctx):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    pay(biz, bid)
    with tenant_scope(biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == bid))
        open_case(SYSTEM_ACTOR, booking, kind="dispute", reason="not_attended", description="Nobody was there.",
                  customer_user_id=None)
    db.session.commit()
    deliver(event(pi, "needs_response", "created"))
    assert cases(biz) == [("awaiting_business", "needs_response", "not_attended", None, True)]
