"""Customer payments on bookings: policy settings, payment holds, syncing PaymentIntents from
Stripe, applying the money policy to booking actions, and the immutable ledger.

Every function works in the current tenant's scope, flushes and never commits (the request
or job commits). Stripe is the source of truth: payment state is re-fetched and upserted
(:func:`sync_payment_intent`), never incremented, so replays and reordering change nothing.
Every refund and charge carries an idempotency key derived from what caused it; every
money movement is one :class:`LedgerEntry` with a unique idempotency key.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.booking.models import Booking, BookingEvent, BookingStatus, Customer
from app.booking.service import SYSTEM, transition
from app.catalog.models import Service
from app.extensions import db
from app.outbox.events import emit
from app.outbox.models import OutboxEvent
from app.payments.gateway import GatewayError, get_connect, get_payments, payments_enabled
from app.payments.models import BookingPayment, ConnectAccount, LedgerEntry, PaymentSettings, ServicePaymentRule
from app.payments.policy import (
    Action,
    BusinessPolicy,
    Decision,
    PaymentMode,
    ServiceRule,
    amount_due,
    customer_may_reschedule,
    decide,
    describe,
)
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.timeutil import utcnow

log = logging.getLogger("plaza.payments")

#: How long a slot is held while the customer pays.
HOLD_DURATION = timedelta(minutes=15)

#: Outbox event kind -> policy action, for events of bookings that may carry money.
#: ``booking.cancelled`` depends on who cancelled (see :func:`action_for_event`).
EVENT_ACTIONS: dict[str, Action] = {
    "booking.no_show": Action.NO_SHOW,
    "booking.hold_expired": Action.HOLD_EXPIRED,
    "booking.declined": Action.BUSINESS_CANCEL,
    "booking.expired": Action.BUSINESS_CANCEL,
    "booking.rescheduled": Action.CUSTOMER_RESCHEDULE,
}

PAID_ACTIONS = ("pay", "pay_request")


class PaymentUnavailable(Exception):
    """Payments cannot be taken right now (Stripe unreachable or refused); ``message`` for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- settings


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
    if row is None:
        row = PaymentSettings()
        db.session.add(row)
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


def save_service_rule(service_id: uuid.UUID, rule: ServiceRule) -> ServicePaymentRule:
    """Create or update the payment rule of service ``service_id`` (of the current tenant)."""
    row = db.session.scalar(sa.select(ServicePaymentRule).where(ServicePaymentRule.service_id == service_id))
    if row is None:
        row = ServicePaymentRule(service_id=service_id)
        db.session.add(row)
    row.mode = rule.mode.value
    row.deposit_percent = rule.deposit_percent
    row.deposit_fixed = rule.deposit_fixed
    db.session.flush()
    return row


def connect_account() -> ConnectAccount | None:
    """The current tenant's connected account, if any."""
    return db.session.scalar(sa.select(ConnectAccount))


def accepts_payments() -> bool:
    """True when Stripe is configured and the tenant's connected account can take charges."""
    if not payments_enabled():
        return False
    acct = connect_account()
    return acct is not None and acct.charges_enabled


def initial_status_for(service: Service) -> BookingStatus | None:
    """``awaiting_payment`` when a booking of ``service`` must be paid now (payments on, the
    account can charge, the service asks a deposit or prepayment above zero); else ``None``
    (the booking service's own choice)."""
    if not accepts_payments():
        return None
    rule = service_rule(service.id)
    if business_policy().require_card or (rule.mode != PaymentMode.NONE and amount_due(rule, service.price_amount) > 0):
        return BookingStatus.AWAITING_PAYMENT
    return None


def application_fee(tenant_id: uuid.UUID, amount: int) -> int:
    """Plaza's application fee (minor units) on a customer payment of ``amount``: the tenant's
    plan's ``application_fee_bps`` (``app.billing.plans.current_plan``) of the amount, rounded
    half up; 0 when the billing domain is absent."""
    try:
        from app.billing.plans import current_plan
    except ImportError:
        return 0
    bps = int(getattr(current_plan(tenant_id), "application_fee_bps", 0) or 0)
    return max(0, min(amount, (amount * bps + 5000) // 10000))


# --------------------------------------------------------------------------- Connect


def start_connect_onboarding(tenant: Tenant, owner_email: str, refresh_url: str, return_url: str) -> str:
    """Create the tenant's connected account if needed and return an onboarding link.

    Raises:
        PaymentUnavailable: Stripe refused or is unreachable.
    """
    acct = connect_account()
    connect = get_connect()
    try:
        if acct is None:
            account_id = connect.create_account(email=owner_email, country=None,
                                                idempotency_key=f"tenant:{tenant.id}:connect-account")
            acct = ConnectAccount(stripe_account_id=account_id, charges_enabled=False, details_submitted=False,
                                  payouts_enabled=False)
            db.session.add(acct)
            db.session.flush()
        return connect.onboarding_link(acct.stripe_account_id, refresh_url=refresh_url, return_url=return_url)
    except GatewayError as exc:
        raise PaymentUnavailable("Stripe could not start onboarding right now. Please try again.") from exc


def sync_connect_account(stripe_account_id: str) -> ConnectAccount | None:
    """Re-fetch the account's status and upsert it on the tenant in scope (None when the
    account is not this tenant's)."""
    acct = db.session.scalar(sa.select(ConnectAccount).where(ConnectAccount.stripe_account_id == stripe_account_id))
    if acct is None:
        return None
    status = get_connect().retrieve_account(stripe_account_id)
    acct.charges_enabled = status.charges_enabled
    acct.details_submitted = status.details_submitted
    acct.payouts_enabled = status.payouts_enabled
    db.session.flush()
    return acct


# --------------------------------------------------------------------------- ledger


def record_ledger(*, kind: str, amount: int, currency: str, key: str, booking_id: uuid.UUID | None = None,
                  payment_intent: str | None = None, refund: str | None = None, charge: str | None = None,
                  description: str = "", at: datetime | None = None) -> bool:
    """Append one ledger row unless ``key`` was already recorded; True when inserted.

    ``amount`` is signed minor units (payment/fee positive, refund/application_fee negative).
    """
    stmt = pg_insert(LedgerEntry).values(
        tenant_id=require_tenant_id(), id=uuid.uuid4(), kind=kind, amount=amount, currency=currency.upper(),
        booking_id=booking_id, stripe_payment_intent_id=payment_intent, stripe_refund_id=refund,
        stripe_charge_id=charge, description=description[:300], idempotency_key=key, created_at=at or utcnow(),
    ).on_conflict_do_nothing(constraint="ledger_entry_idem")
    return db.session.execute(stmt).rowcount == 1


def ledger_entries(limit: int | None = None) -> list[LedgerEntry]:
    """The current tenant's ledger, newest first."""
    q = sa.select(LedgerEntry).order_by(LedgerEntry.created_at.desc(), LedgerEntry.id)
    if limit:
        q = q.limit(limit)
    return list(db.session.scalars(q))


def booking_ledger(booking_id: uuid.UUID) -> list[LedgerEntry]:
    """Ledger rows of one booking, oldest first."""
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.booking_id == booking_id)
                                   .order_by(LedgerEntry.created_at, LedgerEntry.id)))


# --------------------------------------------------------------------------- holds


def booking_payment(booking_id: uuid.UUID) -> BookingPayment | None:
    """The payment asked for ``booking_id``, if any."""
    return db.session.scalar(sa.select(BookingPayment).where(BookingPayment.booking_id == booking_id))


def _metadata(booking: Booking, purpose: str) -> dict[str, str]:
    return {"plaza_tenant": str(booking.tenant_id), "plaza_booking": str(booking.id), "plaza_purpose": purpose}


def start_payment_hold(tenant: Tenant, booking: Booking, now: datetime | None = None) -> BookingPayment:
    """Ask for the payment of an ``awaiting_payment`` booking: a PaymentIntent for the amount
    due (with the connected account and Plaza's application fee) and a hold until now + 15 min.
    When the business requires a saved card: a Stripe Customer and a SetupIntent too.

    Nothing to pay and no card asked confirms at once.

    Raises:
        PaymentUnavailable: Stripe refused or is unreachable (nothing should be committed).
    """
    now = now or utcnow()
    amount = amount_due(service_rule(booking.service_id), booking.price_amount)
    payment = BookingPayment(booking_id=booking.id, amount=amount, currency=booking.currency,
                             application_fee_amount=application_fee(tenant.id, amount),
                             hold_expires_at=now + HOLD_DURATION, status="requires_payment_method")
    db.session.add(payment)
    require_card = business_policy().require_card
    if amount == 0:
        payment.status = "succeeded"
    acct = connect_account()
    gateway = get_payments()
    try:
        if require_card:
            customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
            assert customer is not None
            cus = gateway.create_customer(email=customer.email, name=customer.name,
                                          idempotency_key=f"booking:{booking.id}:customer")
            si = gateway.create_setup_intent(customer=cus["id"], metadata=_metadata(booking, "card"),
                                             idempotency_key=f"booking:{booking.id}:setup")
            payment.customer_stripe_id = cus["id"]
            payment.setup_intent_id = si["id"]
        if amount > 0:
            pi = gateway.create_payment_intent(
                amount=amount, currency=booking.currency, metadata=_metadata(booking, "booking"),
                idempotency_key=f"booking:{booking.id}:intent", customer=payment.customer_stripe_id,
                destination=acct.stripe_account_id if acct else None, application_fee=payment.application_fee_amount)
            payment.payment_intent_id = pi["id"]
            payment.client_secret = pi.get("client_secret")
            payment.status = pi["status"]
    except GatewayError as exc:
        raise PaymentUnavailable("We couldn't start the payment. Please try again in a moment.") from exc
    db.session.flush()
    if _ready(payment):
        _mark_paid(tenant, booking)
    return payment


def _ready(payment: BookingPayment) -> bool:
    """True when everything asked at booking is done: paid (or nothing to pay) and the card
    saved when one was asked."""
    return payment.status == "succeeded" and (payment.setup_intent_id is None or payment.payment_method_id is not None)


def hold_active(payment: BookingPayment, now: datetime | None = None) -> bool:
    """True while the hold of ``payment`` has not expired."""
    return payment.hold_expires_at is None or (now or utcnow()) < payment.hold_expires_at


def _payable(booking: Booking, now: datetime | None = None) -> BookingPayment:
    """The booking's payment while it can still be paid (awaiting payment, hold running).

    Raises:
        PaymentUnavailable: nothing to pay, the hold ran out, or the booking moved on.
    """
    payment = booking_payment(booking.id)
    if payment is None or (payment.payment_intent_id is None and payment.setup_intent_id is None):
        raise PaymentUnavailable("There is nothing to pay for this booking.")
    if booking.status != BookingStatus.AWAITING_PAYMENT.value or not hold_active(payment, now):
        raise PaymentUnavailable("The time we held for you has run out. Please book again.")
    return payment


def _charge_saved_card(booking: Booking, payment: BookingPayment, payment_method: str) -> None:
    """Confirm the booking's PaymentIntent server-side with ``payment_method`` (idempotency key
    per booking and card), then sync it. A declined card syncs the failure and raises.

    Raises:
        PaymentUnavailable: Stripe refused the payment; the message says why.
    """
    if not payment.payment_intent_id:
        return
    try:
        get_payments().confirm_payment_intent(payment.payment_intent_id, payment_method=payment_method,
                                              customer=payment.customer_stripe_id,
                                              idempotency_key=f"booking:{booking.id}:confirm:{payment_method}")
    except GatewayError as exc:
        if not card_refused(exc):
            raise PaymentUnavailable("We couldn't reach the card processor. Please try again.") from exc
        sync_payment_intent(payment.payment_intent_id)
        raise PaymentUnavailable(f"Your payment did not go through: {exc}") from exc
    sync_payment_intent(payment.payment_intent_id)


def pay_with_test_card(tenant: Tenant, booking: Booking, payment_method: str = "pm_card_visa",
                       now: datetime | None = None) -> BookingPayment:
    """Confirm the booking's PaymentIntent server-side with a Stripe test payment method, then
    sync it from Stripe (the webhook would do the same). Only for test mode.

    Raises:
        PaymentUnavailable: the hold expired, the booking is no longer awaiting payment, or
            Stripe refused the payment (e.g. a declined card).
    """
    payment = _payable(booking, now)
    if payment.setup_intent_id and payment.payment_method_id is None:
        try:
            si = get_payments().confirm_setup_intent(
                payment.setup_intent_id, payment_method=payment_method,
                idempotency_key=f"booking:{booking.id}:setup-confirm:{payment_method}")
        except GatewayError as exc:
            raise PaymentUnavailable(f"Your payment did not go through: {exc}") from exc
        sync_setup_intent(si)
        payment_method = payment.payment_method_id or payment_method
    _charge_saved_card(booking, payment, payment_method)
    return payment


#: SetupIntent statuses in which the browser can still confirm it with a card.
OPEN_SETUP_STATUSES = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})


@dataclass(frozen=True)
class CardStart:
    """What the pay step's card form does next (:func:`start_card_payment`): confirm the
    SetupIntent ``setup_secret`` with the card (Stripe.js ``confirmCardSetup``); or, when the
    payment already waits for the bank (``resume_secret``, the PaymentIntent's client secret),
    run that authentication (``confirmCardPayment``) for the card saved on ``setup_intent``;
    or nothing (``done``: the payment already went through)."""

    setup_secret: str | None = None
    resume_secret: str | None = None
    setup_intent: str | None = None
    done: bool = False


def start_card_payment(booking: Booking, now: datetime | None = None) -> CardStart:
    """Start (or resume) paying by card on the pay step, so card numbers never touch Plaza.

    First re-reads the payment from Stripe: one that went through is ``done``; one waiting for
    the bank's authentication (a second tab, a closed 3-D Secure window) is resumed, never
    given a new card. Otherwise hands out the SetupIntent the browser confirms with the card:
    the booking's own while it is open, else (its card was declined afterwards, or it was
    cancelled) a fresh one, idempotency key per replaced intent. Creates the booking's Stripe
    Customer when there is none. The card is saved for the fees the policy may charge later
    (``usage=off_session``) only when the business asks for a card at booking; otherwise it
    serves this payment alone (``on_session``). Flushes.

    Raises:
        PaymentUnavailable: the booking cannot be paid any more, the payment is being
            processed, or Stripe is unreachable.
    """
    payment = _payable(booking, now)
    gateway = get_payments()
    try:
        if payment.payment_intent_id:
            sync_payment_intent(payment.payment_intent_id)
            if payment.status == "succeeded":
                return CardStart(done=True)
            if payment.status == "requires_action" and payment.setup_intent_id:
                return CardStart(resume_secret=payment.client_secret, setup_intent=payment.setup_intent_id)
            if payment.status == "processing":
                raise PaymentUnavailable("Your payment is being processed. We'll email you as soon as it's through.")
        previous = gateway.retrieve_setup_intent(payment.setup_intent_id) if payment.setup_intent_id else None
        if previous is not None and previous["status"] in OPEN_SETUP_STATUSES and previous.get("client_secret"):
            return CardStart(setup_secret=previous["client_secret"])
        if payment.customer_stripe_id is None:
            customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
            assert customer is not None
            payment.customer_stripe_id = gateway.create_customer(
                email=customer.email, name=customer.name, idempotency_key=f"booking:{booking.id}:customer")["id"]
        key = f"booking:{booking.id}:setup" + (f":after:{previous['id']}" if previous else "")
        usage = "off_session" if business_policy().require_card else "on_session"
        si = gateway.create_setup_intent(customer=payment.customer_stripe_id, metadata=_metadata(booking, "card"),
                                         idempotency_key=key, usage=usage)
    except GatewayError as exc:
        raise PaymentUnavailable("We couldn't start the card form. Please try again in a moment.") from exc
    payment.setup_intent_id = si["id"]
    payment.payment_method_id = None
    db.session.flush()
    return CardStart(setup_secret=si["client_secret"])


@dataclass(frozen=True)
class CardStep:
    """Where a card payment stands after :func:`pay_with_saved_card`: ``done`` (the booking
    is paid), or not yet with ``client_secret`` of the PaymentIntent for Stripe.js
    ``confirmCardPayment`` to run the bank's authentication (3-D Secure, SCA)."""

    done: bool
    client_secret: str | None = None


def pay_with_saved_card(booking: Booking, setup_intent_id: str, *, authenticated: bool = False,
                        now: datetime | None = None) -> CardStep:
    """Finish the pay step after the browser saved the customer's card on ``setup_intent_id``:
    save the card on the booking's payment, charge the amount due with it server-side, and
    return :class:`CardStep`. With ``authenticated`` (Stripe.js has just run the bank's
    authentication) the intent is only re-read, never confirmed again. Safe to repeat: Stripe
    calls carry idempotency keys and state is derived from Stripe's objects.

    Raises:
        PaymentUnavailable: the hold ran out, the form is stale (another SetupIntent), the card
            was not saved, the bank declined or authentication failed; the message says which.
    """
    payment = _payable(booking, now)
    if not setup_intent_id or setup_intent_id != payment.setup_intent_id:
        raise PaymentUnavailable("This card form has expired. Please enter your card again.")
    gateway = get_payments()
    try:
        si = gateway.retrieve_setup_intent(setup_intent_id)
    except GatewayError as exc:
        raise PaymentUnavailable("We couldn't reach the card processor. Please try again.") from exc
    if si.get("status") != "succeeded":
        raise PaymentUnavailable("Your card was not saved. Please check the details or use another card.")
    sync_setup_intent(si)
    if payment.payment_intent_id is None:
        return CardStep(done=True)
    try:
        if authenticated:
            sync_payment_intent(payment.payment_intent_id)
        elif payment.status in ("requires_payment_method", "requires_confirmation"):
            _charge_saved_card(booking, payment, payment.payment_method_id or "")
    except GatewayError as exc:
        raise PaymentUnavailable("We couldn't reach the card processor. Please try again.") from exc
    if payment.status == "succeeded":
        return CardStep(done=True)
    if payment.status == "requires_action":
        return CardStep(done=False, client_secret=payment.client_secret)
    if payment.status == "processing":
        raise PaymentUnavailable("Your payment is being processed. We'll email you as soon as it's through.")
    raise PaymentUnavailable("Your bank did not approve the payment. Please try again or use another card.")


def sync_setup_intent(si: dict) -> str:
    """Upsert a (re-fetched) SetupIntent: on success save its card and customer on the
    booking's payment and confirm the booking when nothing else is outstanding. Idempotent."""
    raw = (si.get("metadata") or {}).get("plaza_booking")
    if not raw:
        return "ignored"
    payment = db.session.scalar(sa.select(BookingPayment).where(
        BookingPayment.booking_id == uuid.UUID(raw)).with_for_update())
    if payment is None or payment.setup_intent_id != si["id"]:
        return "ignored"
    if si.get("status") != "succeeded" or not si.get("payment_method"):
        return "unchanged"
    pm = si["payment_method"]
    payment.payment_method_id = pm if isinstance(pm, str) else pm.get("id")
    payment.customer_stripe_id = payment.customer_stripe_id or si.get("customer")
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == payment.booking_id).with_for_update())
    db.session.flush()
    if booking is not None and booking.status == BookingStatus.AWAITING_PAYMENT.value and _ready(payment):
        tenant = db.session.get(Tenant, booking.tenant_id)
        assert tenant is not None
        _mark_paid(tenant, booking)
        return "confirmed"
    return "card_saved"


def _mark_paid(tenant: Tenant, booking: Booking) -> None:
    action = "pay_request" if tenant.requires_confirmation else "pay"
    transition(booking, action, SYSTEM, "payment received")


def _was_paid(booking_id: uuid.UUID) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(BookingEvent).where(
        BookingEvent.booking_id == booking_id, BookingEvent.kind.in_(PAID_ACTIONS))) > 0


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_payment_intent` did: ``status`` of the intent and ``outcome``
    (``confirmed``, ``late_refund``, ``unchanged``, ``unknown``)."""

    status: str
    outcome: str


def sync_payment_intent(payment_intent_id: str, now: datetime | None = None) -> SyncResult:
    """Re-fetch ``payment_intent_id`` and derive everything from its current state (idempotent,
    order-safe): the payment's status; ledger rows for the payment, Plaza's fee and every
    refund; an ``awaiting_payment`` booking confirmed on success; a success for a booking
    whose hold already ended (never paid, now cancelled) refunded in full once, with an
    outbox event to tell the customer. Money outbox events for the customer's notifications,
    once each (:func:`emit_money_event`): ``payment.received`` per intent, ``payment.failed``
    per failed charge, ``refund.issued`` per refund.
    """
    payment = db.session.scalar(sa.select(BookingPayment).where(
        BookingPayment.payment_intent_id == payment_intent_id).with_for_update())
    if payment is None:
        return _sync_fee_intent(payment_intent_id)
    pi = get_payments().retrieve_payment_intent(payment_intent_id)
    payment.status = pi["status"]
    if pi.get("customer"):
        payment.customer_stripe_id = payment.customer_stripe_id or pi["customer"]
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == payment.booking_id).with_for_update())
    assert booking is not None
    outcome = "unchanged"
    if pi["status"] == "succeeded":
        received = int(pi.get("amount_received") or pi["amount"])
        charge = pi.get("latest_charge")
        charge_id = charge if isinstance(charge, str) else (charge or {}).get("id")
        record_ledger(kind="payment", amount=received, currency=booking.currency, key=f"pi:{pi['id']}:payment",
                      booking_id=booking.id, payment_intent=pi["id"], charge=charge_id,
                      description="Booking payment")
        if booking.status != BookingStatus.CANCELLED.value or _was_paid(booking.id):
            # (a late success on a cancelled booking is refunded and told by ``payment.late_refund``)
            emit_money_event("payment.received", f"payment.received:{pi['id']}", booking_id=str(booking.id),
                             payment_intent=pi["id"], amount=received)
        if payment.application_fee_amount:
            record_ledger(kind="application_fee", amount=-payment.application_fee_amount, currency=booking.currency,
                          key=f"pi:{pi['id']}:application_fee", booking_id=booking.id, payment_intent=pi["id"],
                          description="Plaza application fee")
        if booking.status == BookingStatus.AWAITING_PAYMENT.value and _ready(payment):
            tenant = db.session.get(Tenant, booking.tenant_id)
            assert tenant is not None
            _mark_paid(tenant, booking)
            outcome = "confirmed"
        elif booking.status == BookingStatus.CANCELLED.value and not _was_paid(booking.id):
            outcome = _refund_late_success(booking, payment, pi)
    error = pi.get("last_payment_error") or {}
    if pi["status"] == "requires_payment_method" and error:
        attempt = error.get("charge") or error.get("code") or "unknown"
        emit_money_event("payment.failed", f"payment.failed:{pi['id']}:{attempt}", booking_id=str(booking.id),
                         payment_intent=pi["id"], amount=int(pi["amount"]),
                         reason=str(error.get("message") or error.get("code") or "the card was declined"))
    if pi["status"] in ("succeeded", "requires_capture"):
        for refund in get_payments().list_refunds(pi["id"]):
            _ledger_refund(booking, refund, "Refund")
    db.session.flush()
    return SyncResult(pi["status"], outcome)


def late_payment_cause(booking: Booking) -> str:
    """Why an unpaid booking that was then paid is no longer active: ``hold_expired`` (its
    payment time ran out) or ``cancelled`` (the customer or the business cancelled it), from
    the booking's latest move to ``cancelled``."""
    kind = db.session.scalar(sa.select(BookingEvent.kind).where(
        BookingEvent.booking_id == booking.id, BookingEvent.to_status == BookingStatus.CANCELLED.value)
        .order_by(BookingEvent.at.desc()).limit(1))
    return "hold_expired" if kind == "expire_hold" else "cancelled"


LATE_REFUND_DESCRIPTIONS = {"hold_expired": "Refund: paid after the hold ended",
                            "cancelled": "Refund: paid after the booking was cancelled"}


def _refund_late_success(booking: Booking, payment: BookingPayment, pi: dict) -> str:
    """Refund in full a payment that succeeded after its booking stopped waiting for it (the
    hold expired, or the customer or business cancelled it first; idempotency key per intent),
    and write ``payment.late_refund`` once (``amount`` minor units, ``cause`` from
    :func:`late_payment_cause`, ``cancelled_by``) so the customer is told why."""
    cause = late_payment_cause(booking)
    refunded = sum(r["amount"] for r in get_payments().list_refunds(pi["id"]) if r.get("status") != "failed")
    amount = int(pi.get("amount_received") or pi["amount"]) - refunded
    if amount > 0:
        refund = get_payments().create_refund(payment_intent=pi["id"], amount=amount,
                                              metadata={**_metadata(booking, "late_success")},
                                              idempotency_key=f"pi:{pi['id']}:late-refund")
        _ledger_refund(booking, refund, LATE_REFUND_DESCRIPTIONS[cause], notify=False)
    key = f"payment.late_refund:{pi['id']}"
    emit("payment.late_refund", {"booking_id": str(booking.id), "payment_intent": pi["id"], "amount": amount,
                                  "key": key, "cause": cause, "cancelled_by": booking.cancelled_by}, dedup_key=key)
    log.info("late payment refunded", extra={"booking_id": str(booking.id), "payment_intent": pi["id"]})
    return "late_refund"


def _ledger_refund(booking: Booking, refund: dict, description: str, notify: bool = True) -> None:
    """Record a refund once it has succeeded at Stripe (a pending one is recorded by the sync
    that sees it succeed; a failed or cancelled one never is), with Plaza's returned fee."""
    if refund.get("status") != "succeeded":
        return
    record_ledger(kind="refund", amount=-int(refund["amount"]), currency=booking.currency,
                  key=f"refund:{refund['id']}", booking_id=booking.id, payment_intent=refund.get("payment_intent"),
                  refund=refund["id"], charge=refund.get("charge"), description=description)
    reversal = application_fee_reversal(booking_payment(booking.id), refund)
    if reversal:
        record_ledger(kind="application_fee", amount=reversal, currency=booking.currency,
                      key=f"refund:{refund['id']}:application_fee", booking_id=booking.id,
                      payment_intent=refund.get("payment_intent"), refund=refund["id"],
                      description="Plaza application fee returned with the refund")
    if notify and not _late_refund_told(refund.get("payment_intent")):
        emit_money_event("refund.issued", f"refund.issued:{refund['id']}", booking_id=str(booking.id),
                         payment_intent=refund.get("payment_intent"), refund=refund["id"],
                         amount=int(refund["amount"]))


def application_fee_reversal(payment: BookingPayment | None, refund: dict) -> int:
    """The part of Plaza's application fee returned with ``refund`` of the booking's payment,
    in minor units (0 when the refund is not of that payment or it carried no fee).

    Refunds are created with ``refund_application_fee=true``, so Stripe returns the fee in
    proportion to the amount refunded (https://docs.stripe.com/connect/destination-charges#refunding-app-fee);
    each refund's share is rounded down on its own, so any order of delivery records the same
    rows and the shares never add up to more than the fee.
    """
    if payment is None or not payment.application_fee_amount or not payment.amount:
        return 0
    if refund.get("payment_intent") != payment.payment_intent_id:
        return 0
    return payment.application_fee_amount * int(refund["amount"]) // payment.amount


def _late_refund_told(payment_intent_id: str | None) -> bool:
    """Whether the customer is already told about this intent's refund by ``payment.late_refund``."""
    if not payment_intent_id:
        return False
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
        OutboxEvent.kind == "payment.late_refund", OutboxEvent.payload["payment_intent"].astext == payment_intent_id)))


def emit_money_event(kind: str, key: str, **payload: object) -> bool:
    """Write outbox event ``kind`` (``payment.received``, ``payment.failed``, ``refund.issued``…)
    in the current transaction unless one with the same dedup ``key`` exists for the tenant in
    scope; ``payload`` (primitives: ids, ``amount`` in minor units, ``reason``) is stored with
    ``key``. Returns True when written. Flushes."""
    return emit(kind, {**payload, "key": key}, dedup_key=key) is not None


def _sync_fee_intent(payment_intent_id: str) -> SyncResult:
    """A PaymentIntent that is not a booking's main payment: an off-session fee charge (ledger ``fee``)."""
    pi = get_payments().retrieve_payment_intent(payment_intent_id)
    meta = pi.get("metadata") or {}
    booking_id = meta.get("plaza_booking")
    if meta.get("plaza_purpose") != "fee" or not booking_id:
        return SyncResult(pi["status"], "unknown")
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(booking_id)))
    if booking is None:
        return SyncResult(pi["status"], "unknown")
    if pi["status"] == "succeeded":
        record_ledger(kind="fee", amount=int(pi.get("amount_received") or pi["amount"]), currency=booking.currency,
                      key=f"policy:{meta.get('plaza_event') or pi['id']}:fee", booking_id=booking.id,
                      payment_intent=pi["id"],
                      description=meta.get("plaza_reason", "Fee"))
    for refund in get_payments().list_refunds(pi["id"]) if pi["status"] == "succeeded" else []:
        _ledger_refund(booking, refund, "Refund of fee")
    return SyncResult(pi["status"], "unchanged")


def expire_hold(booking_id: uuid.UUID, now: datetime | None = None) -> str:
    """End the hold of an ``awaiting_payment`` booking whose time ran out: first re-check the
    PaymentIntent (a success that arrived in time confirms it); otherwise release the slot
    (``expire_hold`` -> cancelled). Returns ``confirmed``, ``expired`` or ``skipped``.
    A payment that succeeds later is refunded by :func:`sync_payment_intent`.
    """
    now = now or utcnow()
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id).with_for_update())
    payment = booking_payment(booking_id)
    if booking is None or payment is None or booking.status != BookingStatus.AWAITING_PAYMENT.value:
        return "skipped"
    if hold_active(payment, now):
        return "skipped"
    try:
        if payment.setup_intent_id and payment.payment_method_id is None:
            if sync_setup_intent(get_payments().retrieve_setup_intent(payment.setup_intent_id)) == "confirmed":
                return "confirmed"
        if payment.payment_intent_id and sync_payment_intent(payment.payment_intent_id, now).outcome == "confirmed":
            return "confirmed"
    except GatewayError:
        log.warning("could not re-check payment before expiring its hold", extra={"booking_id": str(booking_id)})
    transition(booking, "expire_hold", SYSTEM, "the payment was not completed within 15 minutes")
    return "expired"


def expired_hold_ids(now: datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``(tenant_id, booking_id)`` of every ``awaiting_payment`` booking whose hold ended by ``now``,
    across tenants (call inside ``platform_scope``)."""
    return list(db.session.execute(
        sa.select(Booking.tenant_id, Booking.id).join(
            BookingPayment, sa.and_(BookingPayment.tenant_id == Booking.tenant_id,
                                    BookingPayment.booking_id == Booking.id))
        .where(Booking.status == BookingStatus.AWAITING_PAYMENT.value, BookingPayment.hold_expires_at <= now)))


# --------------------------------------------------------------------------- policy on actions


def action_for_event(kind: str, payload: dict) -> Action | None:
    """The policy action an outbox event stands for (``None``: no money question)."""
    if kind == "booking.cancelled":
        actor = payload.get("actor")
        return {"customer": Action.CUSTOMER_CANCEL, "staff": Action.STAFF_CANCEL}.get(actor or "",
                                                                                      Action.BUSINESS_CANCEL)
    return EVENT_ACTIONS.get(kind)


def _held_excluding(payment: BookingPayment, event_id: str) -> int:
    """What the customer has paid on the booking's intent and not had refunded, leaving out
    refunds made for ``event_id`` itself (so a retried job decides the same), from Stripe."""
    if not payment.payment_intent_id:
        return 0
    pi = get_payments().retrieve_payment_intent(payment.payment_intent_id)
    if pi["status"] != "succeeded":
        return 0
    refunds = [r for r in get_payments().list_refunds(pi["id"])
               if r.get("status") != "failed" and (r.get("metadata") or {}).get("plaza_event") != event_id]
    return int(pi.get("amount_received") or pi["amount"]) - sum(int(r["amount"]) for r in refunds)


def _card_saved_for_fees(payment: BookingPayment) -> bool:
    """True when the booking's saved card may be charged without the customer: it was saved
    on a SetupIntent made for that (``usage=off_session``), not just to pay the deposit."""
    if not (payment.customer_stripe_id and payment.payment_method_id and payment.setup_intent_id):
        return False
    return get_payments().retrieve_setup_intent(payment.setup_intent_id).get("usage") == "off_session"


def apply_policy(booking_id: uuid.UUID, event_id: uuid.UUID) -> Decision | None:
    """Apply the money policy for outbox event ``event_id`` on ``booking_id``: decide with
    :func:`app.payments.policy.decide` as of the event's time, refund and charge through the
    gateway (idempotency keys ``policy:<event>:refund`` / ``:fee``), record the ledger.

    A fee Stripe refuses for good (declined, authentication required: :func:`card_refused`) or
    that cannot be charged (no card) is not retried: it is recorded once as ``fee.uncollected``
    (:func:`_record_fee_uncollected`) and the refund part of the decision is kept in the ledger
    in the same transaction. Network errors and Stripe's 5xx raise (the job retries, same keys).

    Returns the decision, or ``None`` when the event has no money question or the booking
    has no payment. Safe to run twice.

    Raises:
        GatewayError: Stripe unreachable, rate-limited or failing (worth a retry).
    """
    event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == event_id))
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
    payment = booking_payment(booking_id)
    if event is None or booking is None or payment is None:
        return None
    action = action_for_event(event.kind, event.payload or {})
    if action is None:
        return None
    if action == Action.NO_SHOW and booking.status != BookingStatus.NO_SHOW.value:
        return None
    eid = str(event.id)
    card = _card_saved_for_fees(payment)
    decision = decide(action, policy=business_policy(), price=booking.price_amount, currency=booking.currency,
                      paid=_held_excluding(payment, eid), starts_at=booking.starts_at, at=event.created_at,
                      card_on_file=card)
    if not _was_paid(booking.id):
        # The booking never got past its pay step (a saved card alone does not make it a
        # booking the customer committed to): no fee for walking away from it.
        decision = dataclasses.replace(decision, charge=0, uncollected=0)
    gateway = get_payments()
    if decision.refund > 0 and payment.payment_intent_id:
        done = [r for r in gateway.list_refunds(payment.payment_intent_id)
                if (r.get("metadata") or {}).get("plaza_event") == eid and r.get("status") != "failed"]
        refund = done[0] if done else gateway.create_refund(
            payment_intent=payment.payment_intent_id, amount=decision.refund,
            metadata={**_metadata(booking, "policy"), "plaza_event": eid}, idempotency_key=f"policy:{eid}:refund")
        _ledger_refund(booking, refund, f"Refund: {decision.reason}")
    charged = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.idempotency_key == f"policy:{eid}:fee"))
    if decision.charge > 0 and card and not charged and not _fee_uncollected_for(eid):
        acct = connect_account()
        try:
            fee_pi = gateway.charge_off_session(
                amount=decision.charge, currency=booking.currency, customer=payment.customer_stripe_id or "",
                payment_method=payment.payment_method_id or "",
                metadata={**_metadata(booking, "fee"), "plaza_event": eid, "plaza_reason": decision.reason[:200]},
                idempotency_key=f"policy:{eid}:fee", destination=acct.stripe_account_id if acct else None)
        except GatewayError as exc:
            if not card_refused(exc):
                raise  # Stripe unreachable or busy: the job's bounded retries try again (same key)
            _record_fee_uncollected(booking, eid, decision.charge, _refusal_reason(exc), code=exc.code)
        else:
            if fee_pi["status"] == "succeeded":
                record_ledger(kind="fee", amount=int(fee_pi.get("amount_received") or fee_pi["amount"]),
                              currency=booking.currency, key=f"policy:{eid}:fee", booking_id=booking.id,
                              payment_intent=fee_pi["id"], description=decision.reason)
            elif fee_pi["status"] in UNCOLLECTED_FEE_STATUSES:
                error = fee_pi.get("last_payment_error") or {}
                reason = _refusal_reason(GatewayError(
                    str(error.get("message") or ""),
                    "authentication_required" if fee_pi["status"] == "requires_action" else error.get("code")))
                _record_fee_uncollected(booking, eid, decision.charge, reason, code=fee_pi["status"],
                                        payment_intent=fee_pi["id"])
    if decision.uncollected > 0:
        _record_fee_uncollected(booking, eid, decision.uncollected, "no card on file to charge", code="no_card")
    db.session.flush()
    return decision


#: Statuses of an off-session fee PaymentIntent that will not turn into money without the customer.
UNCOLLECTED_FEE_STATUSES = frozenset({"requires_action", "requires_payment_method", "canceled"})


#: Stripe error codes that say the card (or the customer's saved card) cannot pay, for good.
CARD_REFUSALS = frozenset({"card_declined", "authentication_required", "expired_card", "incorrect_cvc",
                           "insufficient_funds", "processing_error", "incorrect_number", "resource_missing"})


def card_refused(exc: GatewayError) -> bool:
    """True when Stripe refused the card itself (HTTP 402, a card error, or a saved card or
    customer that no longer exists: 404), so repeating the charge with the same idempotency key
    can only fail again; False for network errors, rate limits, Stripe's 5xx and our own
    mistakes (a bad API key, an invalid request), which must be retried or fixed, never
    written off. (https://docs.stripe.com/error-codes)"""
    return exc.status in (402, 404) or exc.code in CARD_REFUSALS


def _refusal_reason(exc: GatewayError) -> str:
    """Why a fee could not be charged, in words for staff."""
    if exc.code == "authentication_required":
        return "the customer's bank asked them to authenticate the payment, which is not possible while they are away"
    return str(exc) or exc.code or "the card was declined"


def _fee_uncollected_for(event_id: str) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
        OutboxEvent.kind == "fee.uncollected", OutboxEvent.payload["key"].astext == f"fee.uncollected:{event_id}")))


def _record_fee_uncollected(booking: Booking, event_id: str, amount: int, reason: str, *, code: str | None,
                            payment_intent: str | None = None) -> bool:
    """Record, once per policy event, that a fee the policy asked for was not collected: the
    outbox event ``fee.uncollected`` (``booking_id``, ``amount`` minor units, ``currency``,
    ``reason`` for people, ``code``, ``event``, ``payment_intent`` of a refused charge). Staff
    see it in :func:`payment_summary`. Returns True when written."""
    log.warning("fee not collected", extra={"booking_id": str(booking.id), "amount": amount, "code": code})
    return emit_money_event("fee.uncollected", f"fee.uncollected:{event_id}", booking_id=str(booking.id),
                            amount=amount, currency=booking.currency, reason=reason[:300], code=code,
                            event=event_id, payment_intent=payment_intent)


def reschedule_refusal(tenant: Tenant, booking: Booking, now: datetime) -> str | None:
    """Why the customer may not move ``booking`` themselves at ``now`` (a sentence for them), or
    ``None``: past the free-cancellation deadline of a booking that holds money (it has a
    payment row: a payment asked or a card saved) when a late cancellation costs a fee
    (:func:`app.payments.policy.customer_may_reschedule`)."""
    policy = business_policy()
    held = booking_payment(booking.id) is not None
    if customer_may_reschedule(policy, booking.starts_at, now, money_at_stake=held):
        return None
    return (f"Free cancellation for this booking ended {policy.free_cancellation_hours} hours before the start, "
            f"so it can no longer be moved online. You can still cancel it under the cancellation policy, "
            f"or contact {tenant.name} to change the time.")


# --------------------------------------------------------------------------- read models


@dataclass(frozen=True)
class UncollectedFee:
    """A fee the policy asked for that was not collected: ``amount`` (minor units) and ``reason``."""

    amount: int
    reason: str


@dataclass(frozen=True)
class PaymentSummary:
    """What staff and customers see about a booking's money: ``due`` (asked at booking),
    ``paid``, ``refunded``, ``fees`` (charged later), all minor units; ``status``; ``hold_expires_at``;
    ``uncollected``: fees the policy asked for that were not collected (for staff)."""

    status: str
    currency: str
    due: int
    paid: int
    refunded: int
    fees: int
    hold_expires_at: datetime | None
    uncollected: tuple[UncollectedFee, ...] = ()


    @property
    def label(self) -> str:
        """A few words for the staff board: what happened to the money so far."""
        from app.formatting import format_money

        if self.paid:
            text = f"Paid {format_money(self.paid, self.currency)}"
            if self.refunded:
                text += f", {format_money(self.refunded, self.currency)} refunded"
        elif self.status == "succeeded":
            text = "Card on file" if self.due == 0 else "Paid"
        else:
            text = "Awaiting payment"
        if self.fees:
            text += f" + {format_money(self.fees, self.currency)} fee"
        if self.uncollected:
            text += " · fee not collected"
        return text


def payment_summaries(booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, PaymentSummary]:
    """The payment summary of each booking in ``booking_ids`` that has a payment (tenant in
    scope), from three queries whatever the number of bookings: payment rows, ledger sums by
    kind, and ``fee.uncollected`` records."""
    if not booking_ids:
        return {}
    payments = {p.booking_id: p for p in db.session.scalars(
        sa.select(BookingPayment).where(BookingPayment.booking_id.in_(booking_ids)))}
    if not payments:
        return {}
    ids = list(payments)
    sums: dict[tuple[uuid.UUID, str], int] = {
        (bid, kind): int(total) for bid, kind, total in db.session.execute(
            sa.select(LedgerEntry.booking_id, LedgerEntry.kind, sa.func.sum(LedgerEntry.amount))
            .where(LedgerEntry.booking_id.in_(ids)).group_by(LedgerEntry.booking_id, LedgerEntry.kind))}
    uncollected: dict[uuid.UUID, list[UncollectedFee]] = {}
    for payload in db.session.scalars(sa.select(OutboxEvent.payload).where(
            OutboxEvent.kind == "fee.uncollected",
            OutboxEvent.payload["booking_id"].astext.in_([str(i) for i in ids])).order_by(OutboxEvent.created_at)):
        uncollected.setdefault(uuid.UUID(payload["booking_id"]), []).append(
            UncollectedFee(int(payload.get("amount") or 0), str(payload.get("reason") or "")))
    return {bid: PaymentSummary(
        status=p.status, currency=p.currency, due=p.amount, paid=sums.get((bid, "payment"), 0),
        refunded=-sums.get((bid, "refund"), 0), fees=sums.get((bid, "fee"), 0), hold_expires_at=p.hold_expires_at,
        uncollected=tuple(uncollected.get(bid, ()))) for bid, p in payments.items()}


def payment_summary(booking: Booking) -> PaymentSummary | None:
    """The booking's payment summary from its payment row, ledger and uncollected fees, or
    ``None`` (no payment)."""
    return payment_summaries([booking.id]).get(booking.id)


def policy_lines_for_booking(booking_id: uuid.UUID) -> list[str]:
    """The customer-facing policy sentences for a booking (for the confirmation email), or an
    empty list when the business takes no payments."""
    if not accepts_payments():
        return []
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
    if booking is None:
        return []
    return describe(business_policy(), service_rule(booking.service_id), booking.price_amount)
