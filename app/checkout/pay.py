"""The pay step of a booking: start the payment hold, and pay it by card (Stripe.js card form,
or server-side with a Stripe test card in test mode). Card numbers never touch Plaza.

Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.booking.models import Booking, BookingStatus, Customer
from app.checkout.errors import MissingRecord, TestPaymentsDisabled
from app.checkout.state import mark_paid
from app.checkout.sync import sync_payment_intent, sync_setup_intent
from app.checkout.totals import booking_amount_due
from app.extensions import db
from app.payments.connect import connect_account
from app.payments.errors import PaymentUnavailable
from app.payments.fees import application_fee, card_refused
from app.payments.gateway import GatewayError, get_payments, test_payments_allowed
from app.payments.holds import (
    HOLD_DURATION,
    OPEN_SETUP_STATUSES,
    booking_payment,
    hold_active,
    intent_metadata,
    payment_ready,
)
from app.payments.models import BookingPayment
from app.payments.settings import business_policy
from app.tenants.models import Tenant
from app.timeutil import utcnow


def start_payment_hold(tenant: Tenant, booking: Booking, now: datetime | None = None) -> BookingPayment:
    """Ask for the payment of an ``awaiting_payment`` booking: a PaymentIntent for the amount
    due (with the connected account and Plaza's application fee) and a hold until now + 15 min.
    When the business requires a saved card: a Stripe Customer and a SetupIntent too.

    Nothing to pay and no card asked confirms at once.

    Raises:
        PaymentUnavailable: Stripe refused or is unreachable (nothing should be committed).
    """
    now = now or utcnow()
    amount = booking_amount_due(booking)
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
            if customer is None:
                raise MissingRecord(f"customer of booking {booking.id}")
            cus = gateway.create_customer(email=customer.email, name=customer.name,
                                          idempotency_key=f"booking:{booking.id}:customer")
            si = gateway.create_setup_intent(customer=cus["id"], metadata=intent_metadata(booking.tenant_id, booking.id, "card"),
                                             idempotency_key=f"booking:{booking.id}:setup")
            payment.customer_stripe_id = cus["id"]
            payment.setup_intent_id = si["id"]
        if amount > 0:
            pi = gateway.create_payment_intent(
                amount=amount, currency=booking.currency, metadata=intent_metadata(booking.tenant_id, booking.id, "booking"),
                idempotency_key=f"booking:{booking.id}:intent", customer=payment.customer_stripe_id,
                destination=acct.stripe_account_id if acct else None, application_fee=payment.application_fee_amount)
            payment.payment_intent_id = pi["id"]
            payment.client_secret = pi.get("client_secret")
            payment.status = pi["status"]
    except GatewayError as exc:
        raise PaymentUnavailable(_("We couldn't start the payment. Please try again in a moment.")) from exc
    db.session.flush()
    if payment_ready(payment):
        mark_paid(tenant, booking)
    return payment


def payable_payment(booking: Booking, now: datetime | None = None) -> BookingPayment:
    """The booking's payment while it can still be paid (awaiting payment, hold running).

    Raises:
        PaymentUnavailable: nothing to pay, the hold ran out, or the booking moved on.
    """
    payment = booking_payment(booking.id)
    if payment is None or (payment.payment_intent_id is None and payment.setup_intent_id is None):
        raise PaymentUnavailable(_("There is nothing to pay for this booking."))
    if booking.status != BookingStatus.AWAITING_PAYMENT.value or not hold_active(payment, now):
        raise PaymentUnavailable(_("The time we held for you has run out. Please book again."))
    return payment


def charge_saved_card(booking: Booking, payment: BookingPayment, payment_method: str) -> None:
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
            raise PaymentUnavailable(_("We couldn't reach the card processor. Please try again.")) from exc
        sync_payment_intent(payment.payment_intent_id)
        raise PaymentUnavailable(_("Your payment did not go through: %(reason)s", reason=exc)) from exc
    sync_payment_intent(payment.payment_intent_id)


def _pay_with_test_card(tenant: Tenant, booking: Booking, payment_method: str = "pm_card_visa",
                       now: datetime | None = None) -> BookingPayment:
    """Confirm the booking's PaymentIntent server-side with a Stripe test payment method, then
    sync it from Stripe (the webhook would do the same). Only for test mode.

    Raises:
        TestPaymentsDisabled: test payments are not allowed by the configuration
            (:func:`app.payments.gateway.test_payments_allowed`: the Stripe stand-in only).
        PaymentUnavailable: the hold expired, the booking is no longer awaiting payment, or
            Stripe refused the payment (e.g. a declined card).
    """
    if not test_payments_allowed():
        raise TestPaymentsDisabled("paying with a test card is only possible against the Stripe stand-in")
    payment = payable_payment(booking, now)
    if payment.setup_intent_id and payment.payment_method_id is None:
        try:
            si = get_payments().confirm_setup_intent(
                payment.setup_intent_id, payment_method=payment_method,
                idempotency_key=f"booking:{booking.id}:setup-confirm:{payment_method}")
        except GatewayError as exc:
            raise PaymentUnavailable(_("Your payment did not go through: %(reason)s", reason=exc)) from exc
        sync_setup_intent(si)
        payment_method = payment.payment_method_id or payment_method
    charge_saved_card(booking, payment, payment_method)
    return payment


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


def _start_card_payment(booking: Booking, now: datetime | None = None) -> CardStart:
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
    payment = payable_payment(booking, now)
    gateway = get_payments()
    try:
        if payment.payment_intent_id:
            sync_payment_intent(payment.payment_intent_id)
            if payment.status == "succeeded":
                return CardStart(done=True)
            if payment.status == "requires_action" and payment.setup_intent_id:
                return CardStart(resume_secret=payment.client_secret, setup_intent=payment.setup_intent_id)
            if payment.status == "processing":
                raise PaymentUnavailable(_("Your payment is being processed. We'll email you as soon as it's through."))
        previous = gateway.retrieve_setup_intent(payment.setup_intent_id) if payment.setup_intent_id else None
        if previous is not None and previous["status"] in OPEN_SETUP_STATUSES and previous.get("client_secret"):
            return CardStart(setup_secret=previous["client_secret"])
        if payment.customer_stripe_id is None:
            customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
            if customer is None:
                raise MissingRecord(f"customer of booking {booking.id}")
            payment.customer_stripe_id = gateway.create_customer(
                email=customer.email, name=customer.name, idempotency_key=f"booking:{booking.id}:customer")["id"]
        key = f"booking:{booking.id}:setup" + (f":after:{previous['id']}" if previous else "")
        usage = "off_session" if business_policy().require_card else "on_session"
        si = gateway.create_setup_intent(customer=payment.customer_stripe_id, metadata=intent_metadata(booking.tenant_id, booking.id, "card"),
                                         idempotency_key=key, usage=usage)
    except GatewayError as exc:
        raise PaymentUnavailable(_("We couldn't start the card form. Please try again in a moment.")) from exc
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


def _pay_with_saved_card(booking: Booking, setup_intent_id: str, *, authenticated: bool = False,
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
    payment = payable_payment(booking, now)
    if not setup_intent_id or setup_intent_id != payment.setup_intent_id:
        raise PaymentUnavailable(_("This card form has expired. Please enter your card again."))
    gateway = get_payments()
    try:
        si = gateway.retrieve_setup_intent(setup_intent_id)
    except GatewayError as exc:
        raise PaymentUnavailable(_("We couldn't reach the card processor. Please try again.")) from exc
    if si.get("status") != "succeeded":
        raise PaymentUnavailable(_("Your card was not saved. Please check the details or use another card."))
    sync_setup_intent(si)
    if payment.payment_intent_id is None:
        return CardStep(done=True)
    try:
        if authenticated:
            sync_payment_intent(payment.payment_intent_id)
        elif payment.status in ("requires_payment_method", "requires_confirmation"):
            charge_saved_card(booking, payment, payment.payment_method_id or "")
    except GatewayError as exc:
        raise PaymentUnavailable(_("We couldn't reach the card processor. Please try again.")) from exc
    if payment.status == "succeeded":
        return CardStep(done=True)
    if payment.status == "requires_action":
        return CardStep(done=False, client_secret=payment.client_secret)
    if payment.status == "processing":
        raise PaymentUnavailable(_("Your payment is being processed. We'll email you as soon as it's through."))
    raise PaymentUnavailable(_("Your bank did not approve the payment. Please try again or use another card."))


@dataclass(frozen=True)
class Refused:
    """A pay step that did not go through: ``message`` says why, for the customer (the hold ran
    out, the form is stale, the bank declined, Stripe is unreachable…). What Stripe reported
    before the refusal (the payment's status, its ``payment.failed`` event, a saved card) is
    written and flushed: the caller keeps it (the pay views commit it with
    :func:`app.uow.unit_of_work`, then answer 409)."""

    message: str


def pay_with_test_card(tenant: Tenant, booking: Booking, payment_method: str = "pm_card_visa",
                       now: datetime | None = None) -> BookingPayment | Refused:
    """Confirm the booking's PaymentIntent server-side with a Stripe test payment method, then
    sync it from Stripe (the webhook would do the same): the booking's payment, or
    :class:`Refused` (the hold expired, the booking no longer awaits payment, Stripe refused
    the payment, e.g. a declined card). Only against the Stripe stand-in.

    Raises:
        TestPaymentsDisabled: test payments are not allowed by the configuration
            (:func:`app.payments.gateway.test_payments_allowed`).
    """
    try:
        return _pay_with_test_card(tenant, booking, payment_method, now)
    except PaymentUnavailable as exc:
        return Refused(exc.message)


def start_card_payment(booking: Booking, now: datetime | None = None) -> CardStart | Refused:
    """Start (or resume) paying by card on the pay step (:class:`CardStart`), or :class:`Refused`:
    the booking cannot be paid any more, the payment is being processed, or Stripe is
    unreachable. Card numbers never touch Plaza. Flushes."""
    try:
        return _start_card_payment(booking, now)
    except PaymentUnavailable as exc:
        return Refused(exc.message)


def pay_with_saved_card(booking: Booking, setup_intent_id: str, *, authenticated: bool = False,
                        now: datetime | None = None) -> CardStep | Refused:
    """Finish the pay step after the browser saved the customer's card on ``setup_intent_id``
    (:class:`CardStep`), or :class:`Refused`: the hold ran out, the form is stale, the card was
    not saved, the bank declined or authentication failed. Safe to repeat. Flushes."""
    try:
        return _pay_with_saved_card(booking, setup_intent_id, authenticated=authenticated, now=now)
    except PaymentUnavailable as exc:
        return Refused(exc.message)
