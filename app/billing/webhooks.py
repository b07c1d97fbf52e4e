"""Stripe webhook intake and processing.

Intake (:func:`record_event`): verify the ``Stripe-Signature`` header on the raw body against
``STRIPE_WEBHOOK_SECRET`` and, during a rotation, ``STRIPE_WEBHOOK_SECRET_PREVIOUS`` (the SDK's
default tolerance, 300 s), then insert the event into the ``stripe_webhook_event`` ledger with
``INSERT … ON CONFLICT DO NOTHING`` on Stripe's event id. Nothing is written when the
signature fails.

Processing (:func:`process_event`, run by the ``process_webhook_event`` job): take the ledger
row with ``SELECT … FOR UPDATE SKIP LOCKED`` (a concurrent run of the same event skips it),
re-fetch the object the event is about and derive state from it (subscription and invoice
events, and ``checkout.session.completed`` for a subscription), collect side effects (emails
keyed by a unique dedup key), mark the row processed. Events of connected accounts
(``event.account`` set) never touch Plaza's own billing. Payment events
(``payment_intent.*``, ``charge.*``, ``setup_intent.*``, ``account.*``, ``refund.*``) go to
``app.checkout.webhooks.HANDLERS[type](event)`` when that handler exists.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import stripe
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.billing.gateway import get_gateway
from app.billing.models import BillingSubscription, StripeWebhookEvent
from app.billing.plans import setting
from app.billing.service import FINAL_STATUSES, derive_subscription, invoice_subscription_id
from app.extensions import db
from app.formatting import format_money
from app.i18n import DEFAULT_LANGUAGE, supported_locale
from app.identity.models import User
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Membership, Role, Tenant
from app.timeutil import utcnow

log = logging.getLogger("plaza.billing.webhooks")

PAYMENT_PREFIXES = ("payment_intent.", "charge.", "setup_intent.", "account.", "refund")
SUBSCRIPTION_EVENTS = frozenset({
    "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
    "customer.subscription.paused", "customer.subscription.resumed", "customer.subscription.trial_will_end",
    "customer.subscription.pending_update_applied", "customer.subscription.pending_update_expired",
})
INVOICE_EVENTS = frozenset({
    "invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed", "invoice.finalized",
    "invoice.payment_action_required", "invoice.updated", "invoice.created", "invoice.voided",
    "invoice.marked_uncollectible",
})


class SignatureInvalid(Exception):
    """The body is not signed by any configured webhook secret (or is too old, or malformed)."""


WEBHOOK_SECRET_SETTINGS = ("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET_PREVIOUS", "STRIPE_CONNECT_WEBHOOK_SECRET")


def webhook_secrets() -> list[str]:
    """The accepted signing secrets, in order: ``STRIPE_WEBHOOK_SECRET``,
    ``STRIPE_WEBHOOK_SECRET_PREVIOUS`` (during a rotation) and ``STRIPE_CONNECT_WEBHOOK_SECRET``
    (a Connect endpoint, which Stripe signs with its own secret, may point at the same URL)."""
    return [s for s in (setting(name) for name in WEBHOOK_SECRET_SETTINGS) if s]


def verify(payload: bytes, header: str | None) -> dict:
    """The event parsed from the raw ``payload`` once its signature ``header`` checks out.

    Raises:
        SignatureInvalid: no secret configured, missing/invalid/stale signature, or bad JSON.
    """
    secrets = webhook_secrets()
    if not secrets or not header:
        raise SignatureInvalid("missing signature or no webhook secret configured")
    try:
        text = payload.decode("utf-8", errors="strict") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError as exc:
        raise SignatureInvalid("body is not UTF-8") from exc
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        except stripe.SignatureVerificationError:
            continue
        try:
            event = json.loads(text)
        except ValueError as exc:
            raise SignatureInvalid("body is not JSON") from exc
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise SignatureInvalid("not a Stripe event")
        return event
    raise SignatureInvalid("no webhook secret matches the signature")


def record_event(event: dict) -> bool:
    """Insert a verified event into the ledger; ``True`` when new, ``False`` for a duplicate id. Flushes."""
    new = db.session.execute(
        pg_insert(StripeWebhookEvent).values(id=str(event["id"])[:255], type=str(event["type"])[:100],
                                             payload=event, received_at=utcnow(), attempts=0)
        .on_conflict_do_nothing(index_elements=["id"]).returning(StripeWebhookEvent.id)
    ).scalar()
    return new is not None


# --- processing --------------------------------------------------------------------------------


@dataclass
class Effect:
    """An email to send once: ``key`` is its dedup key in the tenant's delivery table."""

    tenant_id: str
    key: str
    to: str
    subject: str
    text: str


@dataclass
class Outcome:
    """What processing one event did: ``status`` (``processed``, ``skipped`` when already done
    or locked by a concurrent run, ``missing``), and the side effects to send."""

    status: str
    effects: list[Effect] = field(default_factory=list)


#: The module holding ``HANDLERS`` for payment events. Named by dotted path, like a job: it
#: lives in :mod:`app.checkout`, above this domain, which must not import it.
PAYMENT_HANDLERS_MODULE = "app.checkout.webhooks"
#: The module holding ``HANDLERS`` for chargebacks (``charge.dispute.*``), by dotted path too.
DISPUTE_HANDLERS_MODULE = "app.disputes.stripe"
#: The module buying lead credit packs (one-time Checkout, ``metadata.plaza_kind=credits``), by dotted path too.
CREDITS_CHECKOUT_MODULE = "app.credits.purchase"


def payment_handler(event_type: str) -> Callable[[dict], Any] | None:
    """The handler of payment event ``event_type`` (``HANDLERS`` of :data:`PAYMENT_HANDLERS_MODULE`),
    or ``None`` when payments do not handle that type. An import error propagates."""
    module = importlib.import_module(
        DISPUTE_HANDLERS_MODULE if event_type.startswith("charge.dispute.") else PAYMENT_HANDLERS_MODULE)
    return getattr(module, "HANDLERS", {}).get(event_type)


def _owner_email(tenant_id) -> str | None:
    with tenant_scope(tenant_id):
        return db.session.scalar(sa.select(User.email).join(Membership, Membership.user_id == User.id)
                                 .where(Membership.role == Role.OWNER.value).order_by(Membership.created_at)
                                 .limit(1))


def _reader(email: str, tenant_id) -> str:
    """The language the owner with login ``email`` reads: their account's choice, else the business's default."""
    row = db.session.execute(sa.select(User.locale, Tenant.default_locale).select_from(Tenant).outerjoin(
        User, sa.func.lower(User.email) == email.lower()).where(Tenant.id == tenant_id)).first()
    return (supported_locale(row[0]) or supported_locale(row[1]) if row else None) or DEFAULT_LANGUAGE


def _business_name(tenant_id) -> str:
    return db.session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant_id)) or "your business"


def _invoice_effects(event: dict, tenant_id, invoice: dict) -> list[Effect]:
    """Dunning per failed attempt (keyed by invoice and attempt number), and one "payment
    recovered" email per invoice that failed at least once and is now paid. Both rules read
    only facts (the event's attempt, the ledger and the invoice's current status), so they
    give the same emails in any delivery order."""
    owner = _owner_email(tenant_id)
    if not owner:
        return []
    name = _business_name(tenant_id)
    inv_id = invoice["id"]
    out = []
    event_invoice = event["data"]["object"]
    if event["type"] == "invoice.payment_failed":
        attempt = int(event_invoice.get("attempt_count") or 1)
        amount = int(event_invoice.get("amount_due") or invoice.get("amount_due") or 0)
        currency = str(event_invoice.get("currency") or "usd").upper()
        with force_locale(_reader(owner, tenant_id)):  # the owner's language
            out.append(Effect(str(tenant_id), f"billing:dunning:{inv_id}:{attempt}", owner,
                              _("Payment failed for your Plaza subscription (%(business)s)", business=name),
                              _("We could not charge your card for %(amount)s (attempt %(attempt)s). Please update "
                                "your card on the billing page of your dashboard. Your booking page keeps taking "
                                "bookings meanwhile; paid features pause if the invoice stays unpaid past the grace "
                                "period.", amount=format_money(amount, currency), attempt=attempt)))
    failed_before = db.session.scalar(sa.select(sa.func.count()).select_from(StripeWebhookEvent).where(
        StripeWebhookEvent.type == "invoice.payment_failed",
        StripeWebhookEvent.payload["data"]["object"]["id"].astext == inv_id)) or 0
    if invoice.get("status") == "paid" and failed_before:
        with force_locale(_reader(owner, tenant_id)):
            out.append(Effect(str(tenant_id), f"billing:recovered:{inv_id}", owner,
                              _("Payment received: your Plaza subscription is back in good standing "
                                "(%(business)s)", business=name),
                              _("Thank you: your payment went through and every feature of your plan is active "
                                "again.")))
    return out


def _derive(event: dict) -> list[Effect]:
    etype = event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    if etype.startswith(PAYMENT_PREFIXES):
        handler = payment_handler(etype)
        if handler is not None:
            handler(event)
        return []
    if event.get("account"):  # a connected account's own event: not Plaza's billing
        return []
    if etype.startswith("checkout.session.") and (obj.get("metadata") or {}).get("plaza_kind") == "credits":
        importlib.import_module(CREDITS_CHECKOUT_MODULE).handle_checkout_completed(event)
        return []
    if etype == "checkout.session.completed" and obj.get("mode") == "subscription" and obj.get("subscription"):
        derive_subscription(str(obj["subscription"]))
        return []
    if etype in SUBSCRIPTION_EVENTS and obj.get("id"):
        derive_subscription(obj["id"])
        return []
    if etype in INVOICE_EVENTS and obj.get("id"):
        gw = get_gateway()
        invoice = gw.retrieve_invoice(obj["id"])
        sub_id = invoice_subscription_id(invoice) or invoice_subscription_id(obj)
        if not sub_id:
            return []
        result = derive_subscription(sub_id, gw)
        if result.tenant_id is None:
            return []
        return _invoice_effects(event, result.tenant_id, invoice)
    return []


def process_event(event_id: str) -> Outcome:
    """Process ledger event ``event_id`` once: lock its row (``FOR UPDATE SKIP LOCKED``; a
    concurrent run or an already processed row is ``skipped``), derive state, mark it processed.
    Flushes; the caller commits (the lock is held until then). On an error the caller rolls
    back, records it with :func:`record_failure`, and the job is retried.
    """
    row = db.session.scalar(sa.select(StripeWebhookEvent).where(StripeWebhookEvent.id == event_id)
                            .with_for_update(skip_locked=True))
    if row is None:
        exists = db.session.scalar(sa.select(sa.func.count()).select_from(StripeWebhookEvent)
                                   .where(StripeWebhookEvent.id == event_id))
        return Outcome("skipped" if exists else "missing")
    if row.processed_at is not None:
        return Outcome("skipped")
    effects = _derive(row.payload)
    row.processed_at = utcnow()
    row.attempts += 1
    row.error = None
    db.session.flush()
    return Outcome("processed", effects)


def record_failure(event_id: str, error: str) -> None:
    """Note a processing failure on the ledger row (own statement; caller commits)."""
    db.session.execute(sa.update(StripeWebhookEvent).where(StripeWebhookEvent.id == event_id)
                       .values(error=error[:4000], attempts=StripeWebhookEvent.attempts + 1))


def unprocessed_event_ids(limit: int = 500) -> list[str]:
    """Ids of ledger events not yet processed, oldest first (for the sweep)."""
    return list(db.session.scalars(sa.select(StripeWebhookEvent.id).where(StripeWebhookEvent.processed_at.is_(None))
                                   .order_by(StripeWebhookEvent.received_at).limit(limit)))


def subscription_snapshot() -> list[tuple]:
    """Every business's derived subscription state (tests and the bench compare it)."""
    with platform_scope("billing snapshot"):
        rows = db.session.scalars(sa.select(BillingSubscription).order_by(BillingSubscription.tenant_id))
        return [(r.tenant_id, r.stripe_subscription_id, r.status, r.plan, r.price_id, r.current_period_end,
                 r.cancel_at_period_end, r.past_due_since, r.latest_invoice_id) for r in rows]


__all__ = ["FINAL_STATUSES", "SignatureInvalid", "verify", "record_event", "process_event"]
