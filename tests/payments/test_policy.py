"""Unit tests for the money policy engine (``app.payments.policy``): exact amounts a customer
would see refunded or charged, for every action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.payments.policy import (
    Action,
    BusinessPolicy,
    Decision,
    PaymentMode,
    PolicyError,
    ServiceRule,
    amount_due,
    customer_may_reschedule,
    decide,
    describe,
    percent_of,
    policy_warnings,
)

pytestmark = pytest.mark.unit

START = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
POLICY = BusinessPolicy(free_cancellation_hours=24, late_cancel_fee_percent=20, no_show_fee_percent=50)


def run(action: Action, *, paid: int, hours_before: float, price: int = 50000, policy: BusinessPolicy = POLICY,
        card: bool = False) -> Decision:
    return decide(action, policy=policy, price=price, currency="DKK", paid=paid, starts_at=START,
                  at=START - timedelta(hours=hours_before), card_on_file=card)


@pytest.mark.parametrize(("amount", "percent", "expected"), [
    (1001, 12, 120),   # 120.12 -> 120
    (150, 33, 50),     # 49.5 -> 50 (half up)
    (1, 50, 1),        # 0.5 -> 1
    (3, 50, 2),        # 1.5 -> 2
    (99, 1, 1),        # 0.99 -> 1
    (49, 1, 0),        # 0.49 -> 0
    (50000, 100, 50000),
    (50000, 0, 0),
])
def test_percent_rounds_half_up_to_minor_units(amount, percent, expected):
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(("rule", "price", "due"), [
    (ServiceRule(), 50000, 0),
    (ServiceRule(PaymentMode.FULL), 50000, 50000),
    (ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30), 50000, 15000),
    (ServiceRule(PaymentMode.DEPOSIT, deposit_percent=33), 999, 330),  # 329.67 -> 330
    (ServiceRule(PaymentMode.DEPOSIT, deposit_fixed=10000), 50000, 10000),
    (ServiceRule(PaymentMode.DEPOSIT, deposit_fixed=90000), 50000, 50000),  # never more than the price
    (ServiceRule(PaymentMode.FULL), 0, 0),
])
def test_amount_due_at_booking(rule, price, due):
    assert amount_due(rule, price) == due


def test_customer_cancel_in_time_refunds_everything():
    d = run(Action.CUSTOMER_CANCEL, paid=15000, hours_before=24.01)
    assert (d.refund, d.charge, d.kept, d.uncollected, d.late) == (15000, 0, 0, 0, False)
    assert d.currency == "DKK"


def test_cancel_exactly_at_the_deadline_is_late():
    d = run(Action.CUSTOMER_CANCEL, paid=15000, hours_before=24)
    assert d.late
    assert (d.refund, d.kept) == (5000, 10000)


def test_late_cancel_keeps_the_fee_from_the_deposit_and_refunds_the_rest():
    # price 500.00, deposit 150.00, fee 20% = 100.00 -> refund 50.00
    d = run(Action.CUSTOMER_CANCEL, paid=15000, hours_before=3)
    assert (d.refund, d.charge, d.kept, d.uncollected) == (5000, 0, 10000, 0)


def test_late_cancel_fee_above_deposit_charges_the_card_on_file():
    d = run(Action.CUSTOMER_CANCEL, paid=5000, hours_before=3, card=True)
    assert (d.refund, d.charge, d.kept, d.uncollected) == (0, 5000, 5000, 0)


def test_late_cancel_fee_without_card_is_uncollected():
    d = run(Action.CUSTOMER_CANCEL, paid=0, hours_before=3)
    assert (d.refund, d.charge, d.kept, d.uncollected) == (0, 0, 0, 10000)
    assert not d.moves_money


def test_late_cancel_with_full_prepayment():
    d = run(Action.CUSTOMER_CANCEL, paid=50000, hours_before=1)
    assert (d.refund, d.charge, d.kept) == (40000, 0, 10000)


def test_no_show_fee():
    d = run(Action.NO_SHOW, paid=50000, hours_before=-1)
    assert (d.refund, d.charge, d.kept) == (25000, 0, 25000)
    d = run(Action.NO_SHOW, paid=0, hours_before=-1, card=True)
    assert (d.refund, d.charge, d.kept, d.uncollected) == (0, 25000, 0, 0)
    d = run(Action.NO_SHOW, paid=10000, hours_before=-1, card=False)
    assert (d.refund, d.charge, d.kept, d.uncollected) == (0, 0, 10000, 15000)


def test_no_show_with_zero_fee_refunds_payment():
    policy = BusinessPolicy(free_cancellation_hours=24, no_show_fee_percent=0)
    d = run(Action.NO_SHOW, paid=15000, hours_before=-1, policy=policy)
    assert (d.refund, d.charge, d.kept) == (15000, 0, 0)


@pytest.mark.parametrize("action", [Action.STAFF_CANCEL, Action.BUSINESS_CANCEL, Action.HOLD_EXPIRED])
@pytest.mark.parametrize("hours", [48, 3, -1])
def test_business_side_and_expiry_refund_everything_at_any_time(action, hours):
    d = run(action, paid=15000, hours_before=hours, card=True)
    assert (d.refund, d.charge, d.kept, d.uncollected) == (15000, 0, 0, 0)


@pytest.mark.parametrize("hours", [48, 3])
def test_reschedule_moves_no_money(hours):
    d = run(Action.CUSTOMER_RESCHEDULE, paid=15000, hours_before=hours, card=True)
    assert (d.refund, d.charge, d.kept) == (0, 0, 0)
    assert not d.moves_money


def test_every_action_is_decided():
    for action in Action:
        d = run(action, paid=1000, hours_before=2, card=True)
        assert d.refund + d.kept <= 1000
        assert d.refund >= 0 and d.charge >= 0


def test_zero_free_hours_means_late_only_after_start():
    policy = BusinessPolicy(free_cancellation_hours=0, late_cancel_fee_percent=100)
    assert run(Action.CUSTOMER_CANCEL, paid=500, hours_before=0.1, policy=policy).refund == 500


@pytest.mark.parametrize("kwargs", [
    {"free_cancellation_hours": -1}, {"late_cancel_fee_percent": 101}, {"no_show_fee_percent": -5},
])
def test_invalid_policy_is_rejected(kwargs):
    with pytest.raises(PolicyError):
        BusinessPolicy(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"mode": PaymentMode.DEPOSIT}, {"mode": PaymentMode.DEPOSIT, "deposit_percent": 0},
    {"mode": PaymentMode.DEPOSIT, "deposit_percent": 10, "deposit_fixed": 100},
    {"mode": PaymentMode.DEPOSIT, "deposit_fixed": 0},
])
def test_invalid_service_rule_is_rejected(kwargs):
    with pytest.raises(PolicyError):
        ServiceRule(**kwargs)


def test_negative_amounts_and_naive_times_are_rejected():
    with pytest.raises(PolicyError):
        run(Action.CUSTOMER_CANCEL, paid=-1, hours_before=3)
    with pytest.raises(PolicyError):
        decide(Action.NO_SHOW, policy=POLICY, price=1, currency="DKK", paid=0, starts_at=START.replace(tzinfo=None),
               at=START)


def test_description_mentions_the_numbers():
    text = " ".join(describe(POLICY, ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30), 50000))
    assert "24 hours" in text and "20%" in text and "50%" in text and "deposit" in text


@pytest.mark.parametrize(("hours_before", "money", "fee", "allowed"), [
    (30, True, 20, True),      # inside the free window: moving is fine (the deadline moves too)
    (24.01, True, 20, True),
    (24, True, 20, False),     # at the deadline: late, a move would dodge the fee
    (2, True, 20, False),
    (2, False, 20, True),      # nothing held (no payment, no card): nothing to dodge
    (2, True, 0, True),        # no late fee: nothing to dodge
])
def test_customer_may_reschedule_only_before_the_free_cancellation_deadline(hours_before, money, fee, allowed):
    policy = BusinessPolicy(free_cancellation_hours=24, late_cancel_fee_percent=fee)
    at = START - timedelta(hours=hours_before)
    assert customer_may_reschedule(policy, START, at, money_at_stake=money) is allowed


def test_customer_may_reschedule_rejects_naive_times():
    with pytest.raises(PolicyError):
        customer_may_reschedule(POLICY, START.replace(tzinfo=None), START, money_at_stake=True)


@pytest.mark.parametrize(("free", "cutoff", "warns"), [(24, 24, True), (12, 24, True), (48, 24, False), (1, 0, False),
                                                         (0, 0, True)])
def test_policy_warns_when_free_cancellation_never_ends_before_the_cutoff(free, cutoff, warns):
    warnings = policy_warnings(BusinessPolicy(free_cancellation_hours=free, late_cancel_fee_percent=20), cutoff)
    assert bool(warnings) is warns
    if warns:
        assert f"until {cutoff} hours before" in warnings[0] and "20% late-cancellation fee is never charged" in warnings[0]
