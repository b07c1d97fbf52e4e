"""``flask billing reconcile`` as an operator runs it: one command repairs drift in
subscriptions and in booking payments, prints each change, and then reports nothing."""

from __future__ import annotations

import pytest

from app.payments.gateway import get_payments
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from tests.payments.test_payments import (  # noqa: F401 - fixtures
    book_direct,
    local_start,
    localstripe,
    setup_business,
    state,
    stripe_on,
)

pytestmark = pytest.mark.integration


def test_reconcile_command_repairs_a_payment_whose_webhook_was_lost(app, ctx, stripe_on):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    # The customer paid at Stripe, but the webhook never arrived.
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    assert state(biz, bid)[0] == "awaiting_payment"
    result = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert result.exit_code == 0, result.output
    assert f"{pi}: requires_payment_method -> succeeded, 2 ledger rows" in result.output
    assert "0 subscription(s) changed, 1 payment(s) changed" in result.output
    assert state(biz, bid)[:2] == ("confirmed", [("application_fee", -1500), ("payment", 50000)])
    again = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert "0 subscription(s) changed, 0 payment(s) changed" in again.output
