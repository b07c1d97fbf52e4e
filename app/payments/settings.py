"""A business's money settings: its policy (free-cancellation window, fees, card at booking) and
each service's payment rule (none, deposit, full prepayment), and whether it can take payments.

Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

import dataclasses
import uuid

import sqlalchemy as sa

from app.audit.service import record_audit, request_actor
from app.catalog.currency import rescale_minor
from app.catalog.models import Service
from app.extensions import db
from app.payments.connect import connect_account
from app.payments.gateway import payments_enabled
from app.payments.models import PaymentSettings, ServicePaymentRule
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule, amount_due


def business_policy() -> BusinessPolicy:
    """The current tenant's money policy (defaults when never saved)."""
    row = db.session.scalar(sa.select(PaymentSettings))
    if row is None:
        return BusinessPolicy()
    return BusinessPolicy(row.free_cancellation_hours, row.late_cancel_fee_percent, row.no_show_fee_percent,
                          row.require_card)


def save_business_policy(policy: BusinessPolicy) -> PaymentSettings:
    """Create or update the current tenant's money policy."""
    row = db.session.scalar(sa.select(PaymentSettings))
    before = dataclasses.asdict(business_policy())
    if row is None:
        row = PaymentSettings()
        db.session.add(row)
    record_audit(request_actor(), "payment_policy.changed", "payment_settings", None, before=before,
                 after=dataclasses.asdict(policy))
    row.free_cancellation_hours = policy.free_cancellation_hours
    row.late_cancel_fee_percent = policy.late_cancel_fee_percent
    row.no_show_fee_percent = policy.no_show_fee_percent
    row.require_card = policy.require_card
    db.session.flush()
    return row


def service_rule(service_id: uuid.UUID) -> ServiceRule:
    """The payment rule of service ``service_id`` (no payment when never set)."""
    row = db.session.scalar(sa.select(ServicePaymentRule).where(ServicePaymentRule.service_id == service_id))
    if row is None:
        return ServiceRule()
    return ServiceRule(PaymentMode(row.mode), row.deposit_percent, row.deposit_fixed)


def amounts_due(services: list[Service]) -> dict[uuid.UUID, int]:
    """What each of ``services`` asks when booking at its list price, in minor units (only
    the services that ask something; empty when the business takes no payments). Two queries
    whatever the number of services. Tenant in scope."""
    if not services or not accepts_payments():
        return {}
    rows = {r.service_id: r for r in db.session.scalars(sa.select(ServicePaymentRule).where(
        ServicePaymentRule.service_id.in_([s.id for s in services])))}
    due = {}
    for service in services:
        row = rows.get(service.id)
        if row is None:
            continue
        amount = amount_due(ServiceRule(PaymentMode(row.mode), row.deposit_percent, row.deposit_fixed),
                            service.price_amount)
        if amount:
            due[service.id] = amount
    return due


def _rule_json(rule: ServiceRule) -> dict:
    return {"mode": rule.mode.value, "deposit_percent": rule.deposit_percent, "deposit_fixed": rule.deposit_fixed}


def save_service_rule(service_id: uuid.UUID, rule: ServiceRule) -> ServicePaymentRule:
    """Create or update the payment rule of service ``service_id`` (of the current tenant)."""
    row = db.session.scalar(sa.select(ServicePaymentRule).where(ServicePaymentRule.service_id == service_id))
    if row is None:
        row = ServicePaymentRule(service_id=service_id)
        db.session.add(row)
    record_audit(request_actor(), "payment_rule.changed", "service", service_id,
                 before=_rule_json(service_rule(service_id)), after=_rule_json(rule))
    row.mode = rule.mode.value
    row.deposit_percent = rule.deposit_percent
    row.deposit_fixed = rule.deposit_fixed
    db.session.flush()
    return row


class PaymentsOff(ValueError):
    """A deposit or prepayment chosen while the business cannot take payments; ``message`` says
    what is needed to turn them on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: Why the business cannot take payments yet, by cause.
NOT_CONFIGURED = ("Online payments are not set up on this Plaza installation (no Stripe key), so deposits and "
                  "prepayments cannot be asked; customers pay at the venue. The operator of this Plaza "
                  "installation can turn them on.")
NOT_CONNECTED = ("Connect your Stripe account (above) to ask for deposits and prepayments; until then customers pay "
                 "at the venue.")
NOT_ENABLED = ("Finish your Stripe onboarding (above): Stripe has not enabled charges on your account yet, so "
               "deposits and prepayments cannot be asked; customers pay at the venue.")


def payments_off_reason() -> str | None:
    """What is needed before the current tenant can ask for deposits and prepayments
    (:data:`NOT_CONFIGURED`, :data:`NOT_CONNECTED` or :data:`NOT_ENABLED`), or ``None`` when it can."""
    if not payments_enabled():
        return NOT_CONFIGURED
    acct = connect_account()
    if acct is None:
        return NOT_CONNECTED
    if not acct.charges_enabled:
        return NOT_ENABLED
    return None


def choose_service_rule(service_id: uuid.UUID, rule: ServiceRule) -> ServicePaymentRule:
    """The business chooses the payment rule of service ``service_id``: like
    :func:`save_service_rule`, but a deposit or full prepayment is refused while the business
    cannot take payments (choosing "no payment" is always possible).

    Raises:
        PaymentsOff: a payment mode while :func:`payments_off_reason` gives a reason; nothing written.
    """
    if rule.mode != PaymentMode.NONE:
        reason = payments_off_reason()
        if reason is not None:
            raise PaymentsOff(reason)
    return save_service_rule(service_id, rule)


def accepts_payments() -> bool:
    """True when Stripe is configured and the tenant's connected account can take charges."""
    if not payments_enabled():
        return False
    acct = connect_account()
    return acct is not None and acct.charges_enabled


def rescale_fixed_deposits(old: str, new: str) -> int:
    """After the business's currency changed from ``old`` to ``new``: keep each fixed deposit's
    amount in the new currency (``150.00 DKK`` -> ``150.00 GBP``, minor units rescaled with
    :func:`app.catalog.currency.rescale_minor`). Tenant in scope; flushes. Returns how many
    rules changed."""
    rows = db.session.scalars(sa.select(ServicePaymentRule).where(ServicePaymentRule.deposit_fixed.is_not(None))).all()
    for row in rows:
        row.deposit_fixed = rescale_minor(row.deposit_fixed, old, new)
    db.session.flush()
    return len(rows)
