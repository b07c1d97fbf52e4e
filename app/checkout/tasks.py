"""Payment jobs run by the RQ worker, and the outbox routing that enqueues them.

* :func:`payment_jobs_for_event` tells the outbox relay which payment jobs an outbox event
  causes (called from :func:`app.outbox.relay.relay_outbox`).
* ``booking.awaiting_payment`` -> :func:`schedule_hold_expiry` (an RQ scheduled job at the
  hold's end, :func:`expire_payment_hold`).
* ``booking.cancelled`` / ``no_show`` / ``declined`` / ``expired`` / ``hold_expired`` / ``rescheduled`` ->
  :func:`apply_payment_policy` (refunds and fees by the policy engine).
* ``payment.late_refund`` -> :func:`send_late_refund_email`.
* :func:`sweep_expired_holds` re-derives expired holds from the database (periodic job
  :func:`periodic_hold_sweep`), so a lost scheduled job delays a release, never drops it.

Jobs take primitive ids (tenant id first), run in their tenant's scope and commit once
(:func:`app.jobs.runner.run_in_tenant`); each is safe to run twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.booking.models import Booking, Customer
from app.checkout.errors import MissingRecord
from app.checkout.expiry import expire_hold, expired_hold_ids
from app.checkout.policy import apply_policy
from app.checkout.sync import sync_payment_intent
from app.delivery.mailer import build_message, mail_address, sender
from app.delivery.pipeline import deliver
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, supported_locale
from app.identity.models import User
from app.jobs.runner import JobSpec, get_queue, run_in_tenant, run_on_platform
from app.outbox.models import OutboxEvent
from app.payments.holds import booking_payment
from app.payments.models import BookingPayment, LedgerEntry
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.uow import unit_of_work

log = logging.getLogger("plaza.payments")

TASKS = "app.checkout.tasks"

#: Outbox events whose money consequences the policy engine decides.
POLICY_EVENTS = frozenset({"booking.cancelled", "booking.no_show", "booking.declined", "booking.expired",
                           "booking.rescheduled", "booking.hold_expired"})


def payment_jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """The payment jobs an outbox event causes (empty for most events)."""
    booking_id = (payload or {}).get("booking_id")
    if not booking_id:
        return []
    if kind == "booking.awaiting_payment":
        return [JobSpec(f"{TASKS}.schedule_hold_expiry", (tenant_id, booking_id))]
    if kind in POLICY_EVENTS:
        return [JobSpec(f"{TASKS}.apply_payment_policy", (tenant_id, booking_id, event_id))]
    if kind == "payment.late_refund":
        return [JobSpec(f"{TASKS}.send_late_refund_email", (tenant_id, booking_id, event_id))]
    return []


def apply_payment_policy(tenant_id: str, booking_id: str, event_id: str) -> str:
    """Job: refund / charge what the policy decides for outbox event ``event_id``; returns a
    summary (``none`` when no money moves). Stripe errors raise so RQ retries (same keys)."""

    def run() -> str:
        decision = apply_policy(uuid.UUID(booking_id), uuid.UUID(event_id))
        if decision is None:
            return "none"
        return f"refund={decision.refund} charge={decision.charge} {decision.currency}"

    return run_in_tenant(tenant_id, run)


def _hold_job_id(booking_id: str) -> str:
    return f"payment-hold-{booking_id}"


def schedule_hold_expiry(tenant_id: str, booking_id: str) -> str:
    """Job: schedule :func:`expire_payment_hold` at the booking's hold end (deterministic job
    id, so scheduling twice keeps one). Returns the due instant or ``none``."""

    def run() -> str:
        payment = booking_payment(uuid.UUID(booking_id))
        if payment is None or payment.hold_expires_at is None:
            return "none"
        get_queue().enqueue_at(payment.hold_expires_at, f"{TASKS}.expire_payment_hold", tenant_id, booking_id,
                               job_id=_hold_job_id(booking_id), result_ttl=3600, failure_ttl=7 * 24 * 3600)
        return payment.hold_expires_at.isoformat()

    return run_in_tenant(tenant_id, run)


def expire_payment_hold(tenant_id: str, booking_id: str) -> str:
    """Job: release the booking's slot if its payment hold ended unpaid (see
    :func:`app.checkout.expiry.expire_hold`)."""
    return run_in_tenant(tenant_id, expire_hold, uuid.UUID(booking_id))


def sweep_expired_holds(now: datetime | None = None) -> dict[str, int]:
    """Release every payment hold that ended by ``now`` (default: the current instant), across
    tenants, each in its own tenant scope and transaction; returns counts by outcome.
    One unit of work per booking (:func:`app.uow.unit_of_work`). Needs an app context."""
    now = now or utcnow()
    with unit_of_work(), platform_scope("payment hold sweep"):
        rows = expired_hold_ids(now)
    counts: dict[str, int] = {}
    for tenant_id, booking_id in rows:
        with tenant_scope(tenant_id):
            try:
                with unit_of_work():
                    outcome = expire_hold(booking_id, now)
            except Exception:  # noqa: BLE001 - one booking's failure (Stripe, a row) must not stop the sweep
                log.exception("hold sweep failed for a booking", extra={"booking_id": str(booking_id)})
                outcome = "failed"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def periodic_hold_sweep() -> dict[str, int]:
    """Periodic job: :func:`sweep_expired_holds` now."""
    return run_on_platform(sweep_expired_holds)


def customer_language(booking: Booking, customer: Customer, tenant: Tenant) -> str:
    """The Babel identifier to write to the booking's customer in: their account's choice when the
    record is linked to one, else the language they booked in, else their record's, else the
    business's default, else English (as :func:`app.notifications.language.booking_customer_locale`,
    which this layer cannot import)."""
    chosen = (db.session.scalar(sa.select(User.locale).where(User.id == customer.user_id))
              if customer.user_id else None)
    for tag in (chosen, booking.locale, customer.locale, tenant.default_locale):
        if supported_locale(tag):
            return supported_locale(tag) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def send_late_refund_email(tenant_id: str, booking_id: str, event_id: str) -> str:
    """Job: tell the customer their payment arrived after the booking stopped waiting for it
    (the hold ended, or the booking was cancelled: the event's ``cause``) and was refunded (once).

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """

    def run() -> str:
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(booking_id)))
        event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == uuid.UUID(event_id)))
        if booking is None or event is None:
            return "gone"
        customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
        tenant = db.session.get(Tenant, booking.tenant_id)
        if customer is None or tenant is None:
            raise MissingRecord(f"customer or tenant of booking {booking_id}")
        if not customer.email:
            return "skipped"  # known by phone only: nothing to write to
        context = {"customer": customer, "tenant": tenant, "booking": booking,
                   "amount": int(event.payload.get("amount") or 0),
                   # events written before ``cause`` existed were all expired holds
                   "cause": event.payload.get("cause") or "hold_expired",
                   "cancelled_by": event.payload.get("cancelled_by")}
        with force_locale(customer_language(booking, customer, tenant)):  # the customer's, not the worker's
            message = build_message(
                sender=sender(tenant.name), to=mail_address(customer.name, customer.email),
                subject=_("Your payment to %(business)s was refunded", business=tenant.name),
                text=render_template("payments/email_late_refund.txt", **context),
                html=render_template("payments/email_late_refund.html", **context))
        return deliver(f"booking:{booking_id}:late-refund:{event_id}", message).value

    return run_in_tenant(tenant_id, run)


def reconcile_payments() -> list[str]:
    """Re-fetch every booking payment that is not final (not ``canceled``, or whose booking still
    awaits payment) and every succeeded one (refunds may have drifted) from Stripe, across
    tenants, and upsert; returns one line per payment whose state changed (for
    ``flask billing reconcile``). One unit of work per payment (:func:`app.uow.unit_of_work`).
    Needs an app context."""
    with unit_of_work(), platform_scope("payment reconcile"):
        rows = list(db.session.execute(sa.select(BookingPayment.tenant_id, BookingPayment.payment_intent_id).where(
            BookingPayment.payment_intent_id.is_not(None), BookingPayment.status != "canceled")))
    changes: list[str] = []
    for tenant_id, pi_id in rows:
        with tenant_scope(tenant_id):
            try:
                with unit_of_work():
                    before = db.session.scalar(sa.select(BookingPayment.status).where(
                        BookingPayment.payment_intent_id == pi_id))
                    count = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
                        LedgerEntry.stripe_payment_intent_id == pi_id))
                    result = sync_payment_intent(pi_id)
                    after_count = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
                        LedgerEntry.stripe_payment_intent_id == pi_id))
            except Exception:  # noqa: BLE001 - one payment's failure (Stripe, a row) must not stop the run; reported
                log.exception("payment reconcile failed", extra={"payment_intent": pi_id})
                changes.append(f"{pi_id}: failed")
                continue
        if before != result.status or after_count != count or result.outcome != "unchanged":
            changes.append(f"{pi_id}: {before} -> {result.status}, {after_count - count} ledger rows, "
                           f"{result.outcome}")
    return changes
