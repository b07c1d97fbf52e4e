"""Billing domain: plan limits, subscribing and changing plans through the gateway, and the
derive function that upserts a tenant's ``billing_subscription`` from Stripe's current object.

Functions flush, never commit. State is never incremented: :func:`derive_subscription`
re-fetches the subscription (and its latest invoice) and overwrites the row, so duplicates,
retries and any delivery order end in the same state. A ``canceled`` row is final.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.billing.errors import BillingError, BillingNotConfigured, CheckoutAlreadyPaid
from app.billing.gateway import BillingGatewayError, StripeBilling, get_gateway
from app.billing.models import BillingSubscription
from app.billing.plans import Plan, billing_enabled, current_plan, get_plan, plan_for_price
from app.delivery.models import Delivery
from app.extensions import db
from app.outbox.events import emit
from app.redis_client import get_redis
from app.tenants.context import platform_scope, require_tenant_id, tenant_scope
from app.tenants.models import Tenant
from app.tenants.roles import on_tenant_role
from app.tenants.urls import external_url
from app.timeutil import utcnow

log = logging.getLogger("plaza.billing")

FINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})
TRACKED_FIELDS = ("stripe_subscription_id", "status", "price_id", "plan", "current_period_end",
                  "cancel_at_period_end", "trial_end", "past_due_since", "latest_invoice_id")


# --- limits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsAllowance:
    """A business's text messages this calendar month (UTC): ``used`` sent so far, ``included``
    in its plan; ``exhausted`` when no more may be sent."""

    used: int
    included: int

    @property
    def exhausted(self) -> bool:
        """True when the plan's monthly SMS are all used."""
        return self.used >= self.included


def sms_allowance(tenant_id: uuid.UUID, now: datetime | None = None) -> SmsAllowance | None:
    """SMS sent on behalf of business ``tenant_id`` since the start of the month of ``now``
    against its plan's ``sms_per_month``; ``None`` when billing is not configured (a self-hosted
    Plaza without Stripe has no plans to sell, so it sends without a cap)."""
    if not billing_enabled():
        return None
    now = now or utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.tenant_id == tenant_id, Delivery.channel == "sms",
        Delivery.status == "sent", Delivery.sent_at >= month_start)) or 0
    return SmsAllowance(used=used, included=current_plan(tenant_id, now).sms_per_month)


def sms_quota_reason(tenant_id: uuid.UUID | None, now: datetime | None = None) -> str | None:
    """Why a text message for business ``tenant_id`` may not go out (its plan's monthly SMS are
    used up), or ``None``. Platform messages (``tenant_id`` ``None``) are never capped."""
    if tenant_id is None:
        return None
    allowance = sms_allowance(tenant_id, now)
    if allowance is None or not allowance.exhausted:
        return None
    plan = current_plan(tenant_id, now)
    return f"the {plan.name} plan's {plan.sms_per_month} SMS this month are used"


# --- reading -----------------------------------------------------------------------------------


def get_subscription() -> BillingSubscription | None:
    """The tenant-in-scope's subscription row, or ``None``."""
    return db.session.scalar(sa.select(BillingSubscription))


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _price_of(sub: dict) -> str | None:
    items = (sub.get("items") or {}).get("data") or []
    if not items:
        return None
    item = items[0]
    return ((item.get("price") or {}).get("id") or (item.get("plan") or {}).get("id")) if item else None


def _period_end(sub: dict) -> datetime | None:
    end = sub.get("current_period_end")
    if end is None:
        items = (sub.get("items") or {}).get("data") or []
        end = items[0].get("current_period_end") if items else None
    return _ts(end)


def invoice_subscription_id(invoice: dict) -> str | None:
    """The subscription id of an invoice (old ``subscription`` field or ``parent.subscription_details``)."""
    sub = invoice.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    if sub:
        return sub
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    return details.get("subscription")


# --- deriving ----------------------------------------------------------------------------------


@dataclass
class DeriveResult:
    """What :func:`derive_subscription` did: the tenant, and ``changes`` as field -> (old, new)."""

    tenant_id: uuid.UUID | None
    changes: dict[str, tuple[Any, Any]]


def _find_row(sub: dict) -> BillingSubscription | None:
    """The row for a Stripe subscription, across tenants (platform scope): by subscription id,
    by customer id, or by ``metadata.tenant_id``. On the tenant database role (a business's own
    request) only that business's row can be found."""
    scope = nullcontext() if on_tenant_role() else platform_scope("stripe webhook: find the business of a subscription")
    with scope:
        row = db.session.scalar(sa.select(BillingSubscription).where(
            sa.or_(BillingSubscription.stripe_subscription_id == sub["id"],
                   BillingSubscription.stripe_customer_id == sub.get("customer"))))
        if row is None:
            tid = (sub.get("metadata") or {}).get("tenant_id")
            try:
                key = uuid.UUID(str(tid)) if tid else None
            except ValueError:
                key = None
            if key is not None:
                row = db.session.scalar(sa.select(BillingSubscription).where(BillingSubscription.tenant_id == key))
    return row


def apply_subscription(row: BillingSubscription, sub: dict, invoice: dict | None) -> dict[str, tuple[Any, Any]]:
    """Overwrite ``row`` from Stripe's current subscription ``sub`` (and its latest ``invoice``);
    returns the changed fields. A row already ``canceled`` for this subscription is final
    and left alone. A different subscription id replaces the old one only when the old one is final
    (a resubscription)."""
    if row.stripe_subscription_id and row.stripe_subscription_id != sub["id"] and row.status not in FINAL_STATUSES:
        return {}
    if row.stripe_subscription_id == sub["id"] and row.status in FINAL_STATUSES:
        return {}
    price = _price_of(sub)
    plan = plan_for_price(price)
    status = sub.get("status") or "incomplete"
    past_due_since = None
    if status in {"past_due", "unpaid"}:
        created = (invoice or {}).get("created") or sub.get("created")
        past_due_since = _ts(created)
    new = {
        "stripe_subscription_id": sub["id"], "status": status, "price_id": price,
        "plan": plan.code if plan else (row.plan or "free"), "current_period_end": _period_end(sub),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")), "trial_end": _ts(sub.get("trial_end")),
        "past_due_since": past_due_since,
        "latest_invoice_id": (invoice or {}).get("id") or (sub.get("latest_invoice") if isinstance(
            sub.get("latest_invoice"), str) else None),
    }
    changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
    for k, (_old, v) in changes.items():
        setattr(row, k, v)
    if changes:
        row.updated_at = utcnow()
    return changes


TRIAL_ENDING_WITHIN = timedelta(days=3)
PAST_DUE_STATUSES = frozenset({"past_due", "unpaid"})


def _emit_once(kind: str, key: str, payload: dict[str, Any]) -> bool:
    """Add outbox event ``kind`` with ``payload`` and dedup ``key`` unless the tenant in scope
    already has one with that key (:func:`app.outbox.events.emit`); True when written. Flushes."""
    return emit(kind, {**payload, "key": key}, dedup_key=key) is not None


def emit_subscription_events(row: BillingSubscription, changes: dict[str, tuple[Any, Any]],
                             invoice: dict | None, now: datetime | None = None) -> list[str]:
    """Outbox events telling the owners about ``row``'s money state, in the derive's transaction
    (tenant in scope), once per state (dedup key in the payload): ``subscription.past_due`` when
    it moves into past due (key: when it became past due), ``subscription.recovered`` when it moves
    from past due back to active (key: the past-due spell it leaves), ``subscription.trial_ending``
    while trialing with ``trial_end`` within :data:`TRIAL_ENDING_WITHIN` (key: the trial end).
    Payloads carry ``amount`` (minor units) and ``currency`` of the invoice, or ``trial_end``
    (ISO 8601 UTC). Returns the kinds written."""
    now = now or utcnow()
    sub_id = row.stripe_subscription_id or ""
    written: list[str] = []
    old_status = changes["status"][0] if "status" in changes else row.status
    money = {"amount": int((invoice or {}).get("amount_due") or 0),
             "currency": str((invoice or {}).get("currency") or "usd").upper(), "subscription": sub_id}
    if row.status in PAST_DUE_STATUSES and old_status not in PAST_DUE_STATUSES and row.past_due_since:
        if _emit_once("subscription.past_due", f"subscription.past_due:{sub_id}:{row.past_due_since.isoformat()}",
                      money):
            written.append("subscription.past_due")
    if row.status == "active" and old_status in PAST_DUE_STATUSES:
        since = changes.get("past_due_since", (None, None))[0]
        spell = since.isoformat() if isinstance(since, datetime) else (row.latest_invoice_id or "")
        if _emit_once("subscription.recovered", f"subscription.recovered:{sub_id}:{spell}", money):
            written.append("subscription.recovered")
    if row.status == "trialing" and row.trial_end is not None and now < row.trial_end <= now + TRIAL_ENDING_WITHIN:
        if _emit_once("subscription.trial_ending", f"subscription.trial_ending:{sub_id}:{row.trial_end.isoformat()}",
                      {"subscription": sub_id, "trial_end": row.trial_end.isoformat()}):
            written.append("subscription.trial_ending")
    return written


def derive_subscription(subscription_id: str, gateway: StripeBilling | None = None) -> DeriveResult:
    """Re-fetch subscription ``subscription_id`` with its latest invoice (one request) from Stripe and upsert
    its business's row. Works with or without a tenant in scope (finds the business by the
    Stripe ids or ``metadata.tenant_id``); flushes. Writes the owners' money outbox events
    (:func:`emit_subscription_events`) in the same transaction.

    Raises:
        BillingGatewayError: Stripe could not be reached or refused.
    """
    gw = gateway or get_gateway()
    sub = gw.retrieve_subscription_with_invoice(subscription_id)  # one round trip, the invoice expanded
    latest = sub.get("latest_invoice")
    invoice = gw.retrieve_invoice(latest) if isinstance(latest, str) and latest else (
        latest if isinstance(latest, dict) else None)
    row = _find_row(sub)
    if row is None:
        tid = (sub.get("metadata") or {}).get("tenant_id")
        if not tid:
            log.warning("subscription of no known business", extra={"subscription": subscription_id})
            return DeriveResult(None, {})
        tenant_id = uuid.UUID(str(tid))
        with tenant_scope(tenant_id):
            row = BillingSubscription(tenant_id=tenant_id, stripe_customer_id=sub.get("customer") or "",
                                      status="none", plan="free", cancel_at_period_end=False)
            db.session.add(row)
            changes = apply_subscription(row, sub, invoice)
            db.session.flush()
            emit_subscription_events(row, changes, invoice)
        return DeriveResult(tenant_id, changes)
    with tenant_scope(row.tenant_id):
        changes = apply_subscription(row, sub, invoice)
        db.session.flush()
        emit_subscription_events(row, changes, invoice)
    if changes:
        log.info("subscription derived", extra={"tenant": str(row.tenant_id), "subscription": subscription_id,
                                                "changes": {k: [str(a), str(b)] for k, (a, b) in changes.items()}})
    return DeriveResult(row.tenant_id, changes)


def refresh_from_stripe() -> dict[str, tuple[Any, Any]]:
    """Re-derive the tenant-in-scope's subscription from Stripe now (the page's refresh action);
    returns the changes (empty when nothing drifted or there is no subscription)."""
    row = get_subscription()
    if row is None or not row.stripe_subscription_id:
        return {}
    return derive_subscription(row.stripe_subscription_id).changes


def reconcile_all() -> list[tuple[uuid.UUID, str, dict[str, tuple[Any, Any]]]]:
    """Re-fetch every subscription that is not final, across businesses, and repair drift.

    Returns ``(tenant_id, subscription_id, changes)`` for each one that changed. Flushes.
    """
    with platform_scope("billing reconcile"):
        subs = list(db.session.execute(sa.select(BillingSubscription.tenant_id,
                                                 BillingSubscription.stripe_subscription_id)
                                       .where(BillingSubscription.stripe_subscription_id.is_not(None),
                                              BillingSubscription.status.not_in(FINAL_STATUSES))))
    gw = get_gateway()
    out = []
    for tenant_id, sub_id in subs:
        result = derive_subscription(sub_id, gw)
        if result.changes:
            out.append((tenant_id, sub_id, result.changes))
    return out


# --- acting (owner's billing page) -------------------------------------------------------------


def _gateway() -> StripeBilling:
    if not billing_enabled():
        raise BillingNotConfigured(_("Billing is not configured on this Plaza."))
    return get_gateway()


def ensure_customer(owner_email: str, business_name: str) -> BillingSubscription:
    """The tenant-in-scope's row, creating the Stripe customer (and a ``none`` row) if needed; flushes."""
    row = get_subscription()
    if row is not None:
        return row
    tenant_id = require_tenant_id()
    customer = _gateway().create_customer(owner_email, business_name, str(tenant_id))
    row = BillingSubscription(stripe_customer_id=customer["id"], status="none", plan="free",
                              cancel_at_period_end=False)
    db.session.add(row)
    db.session.flush()
    return row


def _paid_plan(code: str) -> Plan:
    plan = get_plan(code)
    if not plan.is_paid or not plan.price_id:
        raise BillingError(_("The %(plan)s plan cannot be bought here.", plan=plan.label))
    return plan


def subscribe(plan_code: str, owner_email: str, business_name: str, payment_method_id: str | None = None) -> str | None:
    """Start a subscription to ``plan_code`` for the tenant in scope.

    With ``payment_method_id`` (local mode: a test card) the card becomes the default and the
    subscription is created now and derived; returns ``None``. Otherwise returns the Stripe
    Checkout URL to send the owner to (the webhook then derives the state).

    Raises:
        BillingNotConfigured, BillingError: not configured, unknown plan, already subscribed.
        BillingGatewayError: Stripe refused (e.g. the card was declined).
    """
    plan = _paid_plan(plan_code)
    row = ensure_customer(owner_email, business_name)
    if row.stripe_subscription_id and row.status not in FINAL_STATUSES:
        raise BillingError(_("This business already has a subscription; change its plan instead."))
    gw = _gateway()
    trial = plan.trial_days if row.stripe_subscription_id is None else 0
    if payment_method_id is None:
        return _checkout(gw, row, plan, trial)
    gw.set_default_payment_method(row.stripe_customer_id, payment_method_id)
    sub = gw.create_subscription(row.stripe_customer_id, plan.price_id or "", str(row.tenant_id), trial)
    if row.status in FINAL_STATUSES:
        row.status = "none"
    row.stripe_subscription_id = None
    db.session.flush()
    derive_subscription(sub["id"], gw)
    return None


CHECKOUT_KEY = "plaza:billing:checkout:{tenant}"
#: Stripe expires a Checkout Session after 24 hours; remembering it longer is pointless.
CHECKOUT_TTL_SECONDS = 24 * 3600


def _checkout(gw: StripeBilling, row: BillingSubscription, plan: Plan, trial: int) -> str | None:
    """The Checkout URL for ``plan``, with at most one payable session per business: under a
    per-business lock, the previous session (remembered in Redis) is expired first, so two tabs
    can never both be paid into two subscriptions; if it was already paid, its subscription is
    derived now and the owner told (the webhook may still be on its way), unless that
    subscription has ended since (then the owner may subscribe again).

    Raises:
        CheckoutAlreadyPaid: the previous session was paid already (its subscription derived).
        BillingError: another Checkout for this business is being opened right now.
        BillingGatewayError: Stripe refused.
    """
    redis = get_redis()
    key = CHECKOUT_KEY.format(tenant=row.tenant_id)
    lock = redis.lock(f"{key}:lock", timeout=30, blocking_timeout=10)
    if not lock.acquire():
        raise BillingError(_("Another checkout for this business is being opened; please try again."))
    try:
        raw = redis.get(key)
        previous = raw.decode() if isinstance(raw, bytes) else raw
        if previous:
            session = gw.retrieve_checkout_session(previous)
            if session.get("status") == "complete":
                if session.get("subscription"):
                    derive_subscription(str(session["subscription"]), gw)
                if row.status not in FINAL_STATUSES:
                    raise CheckoutAlreadyPaid(_("Your subscription is already paid and is being set up; "
                                                "this page shows it in a moment."))
            elif session.get("status") == "open":
                gw.expire_checkout_session(previous)
        session = gw.checkout_session(row.stripe_customer_id, plan.price_id or "", str(row.tenant_id), trial,
                                      success_url=_url("billing.page"), cancel_url=_url("billing.page"),
                                      idempotency_key=f"plaza-checkout-{row.tenant_id}-{plan.code}-after-"
                                                      f"{previous or 'none'}-{utcnow():%Y%m%d}")
        if session is None:
            return None
        redis.set(key, session["id"], ex=CHECKOUT_TTL_SECONDS)
        return session["url"]
    finally:
        lock.release()


def _url(endpoint: str) -> str:
    """Absolute URL of ``endpoint`` on the host of the tenant in scope (from configuration)."""
    return external_url(endpoint, tenant=db.session.get(Tenant, require_tenant_id()))


def _live_row() -> BillingSubscription:
    row = get_subscription()
    if row is None or not row.stripe_subscription_id or row.status in FINAL_STATUSES:
        raise BillingError(_("There is no active subscription to change."))
    return row


def change_plan(plan_code: str) -> None:
    """Upgrade or downgrade to ``plan_code`` with proration, then derive. Raises like :func:`subscribe`."""
    plan = _paid_plan(plan_code)
    row = _live_row()
    gw = _gateway()
    gw.change_price(row.stripe_subscription_id or "", plan.price_id or "")
    derive_subscription(row.stripe_subscription_id or "", gw)


def set_cancel_at_period_end(cancel: bool) -> None:
    """Cancel at the period's end (``True``) or resume (``False``), then derive."""
    row = _live_row()
    gw = _gateway()
    gw.set_cancel_at_period_end(row.stripe_subscription_id or "", cancel)
    derive_subscription(row.stripe_subscription_id or "", gw)


def update_card(payment_method_id: str | None) -> str | None:
    """Replace the default card: with ``payment_method_id`` (local test card) now, returning
    ``None``; else return the billing-portal URL. Then retry an open latest invoice, if any."""
    row = get_subscription()
    if row is None:
        raise BillingError(_("There is no billing account yet; subscribe first."))
    gw = _gateway()
    if payment_method_id is None:
        return gw.portal_url(row.stripe_customer_id, _url("billing.page"))
    gw.set_default_payment_method(row.stripe_customer_id, payment_method_id)
    if row.latest_invoice_id:
        invoice = gw.retrieve_invoice(row.latest_invoice_id)
        if invoice.get("status") == "open":
            try:
                gw.pay_invoice(row.latest_invoice_id)
            except BillingGatewayError as exc:
                log.info("invoice retry failed", extra={"invoice": row.latest_invoice_id, "error": str(exc)})
    if row.stripe_subscription_id:
        derive_subscription(row.stripe_subscription_id, gw)
    return None


def list_invoices() -> list[dict]:
    """The tenant-in-scope's invoices from Stripe, newest first (empty without a customer)."""
    row = get_subscription()
    if row is None or not billing_enabled():
        return []
    return _gateway().list_invoices(row.stripe_customer_id)
