"""Stripe event handlers for customer payments, called by the billing webhook job.

``HANDLERS[event_type](event)`` takes the verified event as a ``dict`` (Stripe's JSON shape:
``{"id", "type", "account"?, "data": {"object": {...}}}``). Each handler uses the event only
to learn *which* object changed, re-fetches that object through the gateway and upserts its
current state (:func:`app.payments.sync_payment_intent`), so duplicates, retries and
any order of delivery end in the same state; nothing is incremented.

Call inside an app context; handlers put the owning tenant in scope themselves, flush and
never commit (the caller's job commits once). Events for objects Plaza does not know are
ignored (return ``"ignored"``). Handlers return a short outcome string for logs and tests.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from app.checkout.sync import sync_payment_intent, sync_setup_intent
from app.extensions import db
from app.payments.connect import sync_connect_account
from app.payments.gateway import get_payments
from app.payments.models import BookingPayment, ConnectAccount
from app.tenants.context import platform_scope, tenant_scope

log = logging.getLogger("plaza.payments")

Handler = Callable[[dict], str]


def _object(event: dict) -> dict:
    return ((event.get("data") or {}).get("object")) or {}


def _tenant_of_intent(payment_intent_id: str) -> uuid.UUID | None:
    """The tenant owning a PaymentIntent: from our payment row, else the intent's metadata (re-fetched)."""
    with platform_scope("stripe webhook: find the payment's tenant"):
        tenant_id = db.session.scalar(sa.select(BookingPayment.tenant_id).where(
            BookingPayment.payment_intent_id == payment_intent_id))
    if tenant_id is not None:
        return tenant_id
    meta = get_payments().retrieve_payment_intent(payment_intent_id).get("metadata") or {}
    raw = meta.get("plaza_tenant")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def _sync_intent(payment_intent_id: str | None) -> str:
    if not payment_intent_id:
        return "ignored"
    tenant_id = _tenant_of_intent(payment_intent_id)
    if tenant_id is None:
        return "ignored"
    with tenant_scope(tenant_id):
        result = sync_payment_intent(payment_intent_id)
        db.session.flush()
    return result.outcome


def handle_payment_intent(event: dict) -> str:
    """``payment_intent.*``: re-fetch the intent and derive the booking's payment state."""
    return _sync_intent(_object(event).get("id"))


def handle_charge(event: dict) -> str:
    """``charge.*`` (succeeded, refunded, failed…): sync the charge's PaymentIntent."""
    obj = _object(event)
    pi = obj.get("payment_intent")
    return _sync_intent(pi if isinstance(pi, str) else (pi or {}).get("id"))


def handle_refund(event: dict) -> str:
    """``refund.*`` / ``charge.refund.updated``: sync the refunded PaymentIntent (its refunds
    are re-listed from Stripe and recorded once in the ledger)."""
    obj = _object(event)
    pi = obj.get("payment_intent")
    if not pi and obj.get("id", "").startswith("re_"):
        pi = get_payments().retrieve_refund(obj["id"]).get("payment_intent")
    return _sync_intent(pi if isinstance(pi, str) else None)


def handle_setup_intent(event: dict) -> str:
    """``setup_intent.*``: re-fetch the SetupIntent and save its card on the booking's payment."""
    si_id = _object(event).get("id")
    if not si_id:
        return "ignored"
    si = get_payments().retrieve_setup_intent(si_id)
    raw = (si.get("metadata") or {}).get("plaza_tenant")
    if not raw:
        return "ignored"
    with tenant_scope(uuid.UUID(raw)):
        outcome = sync_setup_intent(si)
        db.session.flush()
    return outcome


def handle_account(event: dict) -> str:
    """``account.updated`` (and other ``account.*``): re-fetch the connected account's status."""
    obj = _object(event)
    account_id = obj.get("id") if str(obj.get("id", "")).startswith("acct_") else event.get("account")
    if not account_id:
        return "ignored"
    with platform_scope("stripe webhook: find the connected account's tenant"):
        tenant_id = db.session.scalar(sa.select(ConnectAccount.tenant_id).where(
            ConnectAccount.stripe_account_id == account_id))
    if tenant_id is None:
        return "ignored"
    with tenant_scope(tenant_id):
        acct = sync_connect_account(account_id)
        db.session.flush()
    return "updated" if acct is not None else "ignored"


#: Stripe event type -> handler. The billing webhook job dispatches here.
HANDLERS: dict[str, Handler] = {
    **{f"payment_intent.{s}": handle_payment_intent for s in (
        "created", "succeeded", "payment_failed", "canceled", "processing", "requires_action",
        "amount_capturable_updated", "partially_funded")},
    **{f"charge.{s}": handle_charge for s in (
        "succeeded", "failed", "refunded", "captured", "pending", "updated", "expired")},
    "charge.refund.updated": handle_refund,
    **{f"refund.{s}": handle_refund for s in ("created", "updated", "failed")},
    **{f"setup_intent.{s}": handle_setup_intent for s in (
        "created", "succeeded", "setup_failed", "canceled", "requires_action")},
    "account.updated": handle_account,
    "account.application.authorized": handle_account,
    "account.application.deauthorized": handle_account,
}
