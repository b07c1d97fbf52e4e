"""The one policy engine for money and time on bookings (pure: no database, no Stripe).

Every path that moves money on a booking asks :func:`decide` what to refund and what to
charge: a customer cancelling or rescheduling through the manage link, staff cancelling,
staff marking a no-show, a payment hold expiring, the business cancelling.

Amounts are integer minor units of the booking's ISO 4217 currency.

Rounding rule (documented, tested): a percentage of an amount is rounded half up to the
nearest minor unit, in integer arithmetic: ``(amount * percent + 50) // 100``. So 12.5% of
1001 is 125 (125.125), 50% of 1 is 1 (0.5), 33% of 150 is 50 (49.5).

Rules:

* **Customer cancels** (manage link) before ``starts_at - free_cancellation_hours``: the whole
  amount held is refunded. At or after that instant (late): the late-cancellation fee
  (``late_cancel_fee_percent`` of the price) is kept from what was paid and the rest refunded;
  if the fee exceeds what was paid, the shortfall is charged off-session when a card is on
  file (else it is reported as ``uncollected``).
* **Customer reschedules**: money stays with the booking (no refund, no charge). Moving a
  booking moves its free-cancellation deadline, so a customer may move a booking that holds
  money only *before* that deadline (:func:`customer_may_reschedule`): in the late window a
  reschedule would otherwise turn a late cancellation into a free one. Staff may always move it.
* **Staff cancel** and **business cancel**: the business called it off, so the whole amount
  held is refunded and nothing is charged. (To charge a fee, staff mark a no-show.)
* **No-show**: like a late cancellation with ``no_show_fee_percent``.
* **Hold expired**: the customer did not get the slot, so anything paid is refunded.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _


class Action(enum.StrEnum):
    """What happened to a booking that may move money."""

    CUSTOMER_CANCEL = "customer_cancel"
    CUSTOMER_RESCHEDULE = "customer_reschedule"
    STAFF_CANCEL = "staff_cancel"
    BUSINESS_CANCEL = "business_cancel"
    NO_SHOW = "no_show"
    HOLD_EXPIRED = "hold_expired"


class PaymentMode(enum.StrEnum):
    """What a service asks the customer to pay when booking."""

    NONE = "none"
    DEPOSIT = "deposit"
    FULL = "full"


class PolicyError(ValueError):
    """A policy or rule with impossible values (negative amounts, percentages outside 0..100)."""


@dataclass(frozen=True)
class BusinessPolicy:
    """A business's money-and-time policy.

    ``free_cancellation_hours``: customers cancel free of charge until this many hours before
    the start. ``late_cancel_fee_percent`` / ``no_show_fee_percent``: 0..100, of the price.
    ``require_card``: a card must be saved at booking (SetupIntent) to charge fees off-session.
    """

    free_cancellation_hours: int = 24
    late_cancel_fee_percent: int = 0
    no_show_fee_percent: int = 0
    require_card: bool = False

    def __post_init__(self) -> None:
        if self.free_cancellation_hours < 0:
            raise PolicyError("free_cancellation_hours must be >= 0")
        for name in ("late_cancel_fee_percent", "no_show_fee_percent"):
            if not 0 <= getattr(self, name) <= 100:
                raise PolicyError(f"{name} must be between 0 and 100")


@dataclass(frozen=True)
class ServiceRule:
    """A service's payment rule: ``mode``; for a deposit either ``deposit_percent`` (1..100)
    or ``deposit_fixed`` (minor units, > 0), exactly one."""

    mode: PaymentMode = PaymentMode.NONE
    deposit_percent: int | None = None
    deposit_fixed: int | None = None

    def __post_init__(self) -> None:
        if self.mode == PaymentMode.DEPOSIT:
            if (self.deposit_percent is None) == (self.deposit_fixed is None):
                raise PolicyError("a deposit is either a percentage or a fixed amount")
            if self.deposit_percent is not None and not 1 <= self.deposit_percent <= 100:
                raise PolicyError("deposit_percent must be between 1 and 100")
            if self.deposit_fixed is not None and self.deposit_fixed <= 0:
                raise PolicyError("deposit_fixed must be positive")


@dataclass(frozen=True)
class Decision:
    """What to do with money for one action, in minor units of ``currency``.

    ``refund``: to give back from what was paid. ``charge``: to charge off-session on the saved
    card. ``kept``: what the business keeps from what was paid as a fee. ``uncollected``: a fee
    the policy asks for that cannot be charged (no card on file). ``late`` is True when the
    action happened after the free-cancellation deadline. ``reason`` is a sentence for people.
    """

    action: Action
    currency: str
    refund: int
    charge: int
    kept: int
    uncollected: int
    late: bool
    reason: str

    @property
    def moves_money(self) -> bool:
        """True when something must be refunded or charged."""
        return self.refund > 0 or self.charge > 0


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` (minor units) rounded half up to a whole minor unit.

    Raises:
        PolicyError: negative amount or percent outside 0..100.
    """
    if amount < 0 or not 0 <= percent <= 100:
        raise PolicyError("amount must be >= 0 and percent between 0 and 100")
    return (amount * percent + 50) // 100


def amount_due(rule: ServiceRule, price: int) -> int:
    """What the customer pays when booking a service priced ``price`` (minor units):
    0 for no payment, the deposit (a percentage of the price, or the fixed amount, never more
    than the price) or the whole price."""
    if price < 0:
        raise PolicyError("price must be >= 0")
    if rule.mode == PaymentMode.NONE:
        return 0
    if rule.mode == PaymentMode.FULL:
        return price
    if rule.deposit_percent is not None:
        return percent_of(price, rule.deposit_percent)
    return min(price, rule.deposit_fixed or 0)


def free_until(policy: BusinessPolicy, starts_at: datetime) -> datetime:
    """The instant until which a customer cancels free of charge (exclusive)."""
    return starts_at - timedelta(hours=policy.free_cancellation_hours)


def customer_may_reschedule(policy: BusinessPolicy, starts_at: datetime, at: datetime, *,
                            money_at_stake: bool) -> bool:
    """True when a customer may move their booking starting at ``starts_at`` themselves at ``at``.

    Once the free-cancellation deadline (:func:`free_until`) of a booking that holds money
    (``money_at_stake``: a payment or a saved card) has passed and a late cancellation would
    cost a fee, the deadline stays fixed by the start the booking had then: the customer may
    still cancel (paying the fee) or ask the business, but not move it. Before the deadline, or
    when nothing could be charged, moving is allowed (and the deadline moves with the start).

    Raises:
        PolicyError: naive datetimes.
    """
    if at.tzinfo is None or starts_at.tzinfo is None:
        raise PolicyError("datetimes must be tz-aware")
    if not money_at_stake or policy.late_cancel_fee_percent == 0:
        return True
    return at < free_until(policy, starts_at)


def policy_warnings(policy: BusinessPolicy, cutoff_hours: int) -> list[str]:
    """Sentences for the business about settings that defeat each other, given the tenant's
    online cancellation cut-off ``cutoff_hours`` (customers cancel or move online only until
    that many hours before the start).

    When ``free_cancellation_hours`` <= ``cutoff_hours`` every online cancellation is free, so
    the late-cancellation fee can never be charged online (and with the defaults 24 / 24 it never
    is).
    """
    if policy.free_cancellation_hours > cutoff_hours:
        return []
    fee = (f"the {policy.late_cancel_fee_percent}% late-cancellation fee is never charged"
           if policy.late_cancel_fee_percent else "a late-cancellation fee would never be charged")
    return [f"Free cancellation lasts until {policy.free_cancellation_hours} hours before the start, but customers "
            f"can only cancel online until {cutoff_hours} hours before (your booking cut-off). Every online "
            f"cancellation is therefore free and {fee}. Make free cancellation longer than the cut-off, or "
            "shorten the cut-off."]


def decide(action: Action, *, policy: BusinessPolicy, price: int, currency: str, paid: int,
           starts_at: datetime, at: datetime, card_on_file: bool = False) -> Decision:
    """Decide what is refunded and charged when ``action`` happens at ``at`` to a booking
    priced ``price`` starting at ``starts_at``, of which ``paid`` (net of earlier refunds) is held.

    All amounts are minor units of ``currency``; ``at`` and ``starts_at`` are tz-aware.

    Raises:
        PolicyError: negative ``price``/``paid`` or naive datetimes.
    """
    if price < 0 or paid < 0:
        raise PolicyError("price and paid must be >= 0")
    if at.tzinfo is None or starts_at.tzinfo is None:
        raise PolicyError("datetimes must be tz-aware")
    late = at >= free_until(policy, starts_at)

    def refund_all(reason: str) -> Decision:
        return Decision(action, currency, refund=paid, charge=0, kept=0, uncollected=0, late=late, reason=reason)

    def fee(percent: int, what: str) -> Decision:
        amount = percent_of(price, percent)
        kept = min(amount, paid)
        shortfall = amount - kept
        charge = shortfall if card_on_file else 0
        return Decision(action, currency, refund=paid - kept, charge=charge, kept=kept,
                        uncollected=shortfall - charge, late=late, reason=f"{what} fee of {percent}% of the price")

    if action == Action.CUSTOMER_CANCEL:
        if not late:
            return refund_all("cancelled in time: full refund")
        return fee(policy.late_cancel_fee_percent, "late cancellation")
    if action == Action.NO_SHOW:
        return fee(policy.no_show_fee_percent, "no-show")
    if action == Action.CUSTOMER_RESCHEDULE:
        return Decision(action, currency, refund=0, charge=0, kept=0, uncollected=0, late=late,
                        reason="moved: the payment stays with the booking")
    if action in (Action.STAFF_CANCEL, Action.BUSINESS_CANCEL):
        return refund_all("cancelled by the business: full refund")
    if action == Action.HOLD_EXPIRED:
        return refund_all("the hold expired before payment: anything paid is refunded")
    raise PolicyError(f"unknown action {action!r}")  # pragma: no cover - exhaustive enum


def describe(policy: BusinessPolicy, rule: ServiceRule, price: int) -> list[str]:
    """Customer-facing sentences describing ``policy`` for a service with ``rule`` at ``price``
    (amounts left for the template to format; percentages and hours inline)."""
    lines: list[str] = []
    if rule.mode == PaymentMode.FULL:
        lines.append(_("You pay the full price when you book."))
    elif rule.mode == PaymentMode.DEPOSIT:
        lines.append(_("You pay a deposit when you book; the rest at the appointment."))
    lines.append(_("Free cancellation until %(hours)d hours before the start.", hours=policy.free_cancellation_hours))
    if policy.late_cancel_fee_percent:
        lines.append(_("Later cancellations cost %(percent)d%% of the price.", percent=policy.late_cancel_fee_percent))
    if policy.no_show_fee_percent:
        lines.append(_("Not showing up costs %(percent)d%% of the price.", percent=policy.no_show_fee_percent))
    if policy.require_card:
        lines.append(_("A card is saved when you book to cover these fees."))
    if rule.mode != PaymentMode.NONE:
        lines.append(_("If the business cancels, you get everything you paid back."))
    return lines
