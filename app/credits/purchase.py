"""Buying a credit pack through Stripe Checkout (one-time payment) and granting its credits.

:func:`start_purchase` opens a Checkout Session in ``payment`` mode on Plaza's own Stripe account
(through the billing gateway's configured ``stripe.StripeClient``), priced inline
(``price_data``) from the pack, with ``metadata`` naming the business and the pack
(``plaza_kind=credits``). The credits are granted by :func:`grant_from_session` once Stripe says
the session is ``complete`` and paid, from two places that may run in any order, any number of
times, even at once: the ``checkout.session.completed`` webhook (:func:`handle_checkout_completed`,
routed here by :mod:`app.billing.webhooks`) and the owner's return to the success page
(:func:`complete_return`). Both re-fetch the session from Stripe and move credits with the
idempotency key ``checkout:<session id>``, so a session is credited exactly once
(:func:`app.credits.ledger.move_credits` locks the balance and finds the first grant).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import stripe
from flask_babel import gettext as _

from app.billing.gateway import BillingGatewayError, get_gateway
from app.billing.plans import billing_enabled
from app.credits.ledger import CreditMove, move_credits
from app.credits.packs import CreditPack, get_pack
from app.errors import InputError
from app.tenants.context import current_tenant_id, require_tenant_id, tenant_scope

log = logging.getLogger("plaza.credits.purchase")

#: ``metadata.plaza_kind`` of a credit pack's Checkout Session.
CHECKOUT_KIND = "credits"
#: The Checkout events that may complete a pack's payment.
COMPLETING_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})


class PurchaseUnavailable(InputError):
    """Credit packs cannot be bought here (Stripe is not configured, or has no Checkout: local mode)."""

    field = "pack"


def grant_key(session_id: str) -> str:
    """The ledger idempotency key of Checkout Session ``session_id``'s grant."""
    return f"checkout:{session_id}"


def start_purchase(pack_code: str, customer_email: str, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for pack ``pack_code`` for the business in scope and return
    its URL (send the owner there). ``success_url`` gets ``session_id={CHECKOUT_SESSION_ID}``
    appended so the return can be matched to the session.

    Raises:
        UnknownPack: no such pack on sale.
        PurchaseUnavailable: Stripe Checkout is not configured.
        BillingGatewayError: Stripe refused.
    """
    pack = get_pack(pack_code)
    tenant_id = str(require_tenant_id())
    if not billing_enabled():
        raise PurchaseUnavailable(_("Buying credits is not configured on this Plaza."))
    gw = get_gateway()
    if gw.local:
        raise PurchaseUnavailable(_("Credit packs are bought through Stripe Checkout, which local mode does not "
                                  "have. Ask a platform admin to add credits."))
    sep = "&" if "?" in success_url else "?"
    params: dict[str, Any] = {
        "mode": "payment", "customer_email": customer_email, "client_reference_id": tenant_id,
        "line_items": [{"quantity": 1, "price_data": {
            "currency": pack.currency.lower(), "unit_amount": pack.amount,
            "product_data": {"name": f"{pack.credits} lead credits ({pack.name} pack)"}}}],
        "metadata": metadata_for(pack, tenant_id),
        "payment_intent_data": {"metadata": metadata_for(pack, tenant_id)},
        "success_url": f"{success_url}{sep}session_id={{CHECKOUT_SESSION_ID}}", "cancel_url": cancel_url}
    try:
        session = gw.client.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"plaza-credits-{tenant_id}-{uuid.uuid4()}"})
    except stripe.StripeError as exc:
        raise BillingGatewayError(exc.user_message or str(exc), getattr(exc, "code", None), exc.http_status) from exc
    return str(session["url"])


def metadata_for(pack: CreditPack, tenant_id: str) -> dict[str, str]:
    """The Checkout Session metadata of ``pack`` bought by business ``tenant_id`` (strings, as Stripe keeps them)."""
    return {"plaza_kind": CHECKOUT_KIND, "tenant_id": tenant_id, "pack": pack.code, "credits": str(pack.credits)}


def is_credit_session(session: dict) -> bool:
    """True when ``session`` (a ``checkout.session`` dict) is a credit pack's one-time payment."""
    return session.get("mode") == "payment" and (session.get("metadata") or {}).get("plaza_kind") == CHECKOUT_KIND


def grant_from_session(session: dict) -> CreditMove | None:
    """Grant the credits of a paid pack session (a ``checkout.session`` dict as Stripe has it now)
    to the business in its metadata, once: ``None`` when the session is not a credit pack's, not
    complete or not paid yet, or names no business. Flushes; the caller commits.

    The credit count comes from the session's metadata (written by :func:`start_purchase`), the
    money from ``amount_total``/``currency``. Replays return the first grant with ``replayed=True``.
    """
    if not is_credit_session(session) or session.get("status") != "complete":
        return None
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return None
    meta = session.get("metadata") or {}
    try:
        tenant_id = uuid.UUID(str(meta.get("tenant_id")))
        credits = int(meta.get("credits") or 0)
    except ValueError:
        log.warning("credit session with bad metadata", extra={"session": session.get("id")})
        return None
    if credits <= 0:
        return None
    sid = str(session["id"])
    amount = session.get("amount_total")
    currency = session.get("currency")
    with tenant_scope(tenant_id):
        return move_credits("purchase", credits, grant_key(sid), checkout_session_id=sid,
                            money_amount=int(amount) if amount is not None else None,
                            money_currency=str(currency).upper() if currency else None,
                            note=f"{meta.get('pack', '')} pack"[:200])


def complete_return(session_id: str) -> CreditMove | None:
    """The owner is back from Checkout with ``session_id``: re-fetch the session and grant it if
    it is paid and belongs to the business in scope (``None`` otherwise). Flushes.

    Raises:
        BillingGatewayError: Stripe refused or does not know the session.
    """
    session = get_gateway().retrieve_checkout_session(session_id)
    if (session.get("metadata") or {}).get("tenant_id") != str(current_tenant_id()):
        return None
    return grant_from_session(session)


def handle_checkout_completed(event: dict) -> CreditMove | None:
    """Webhook handler of a credit pack's completing Checkout event: re-fetch the session named by
    the event (its current state, not the event's copy) and grant it. Flushes.

    Raises:
        BillingGatewayError: Stripe is unreachable (the job is retried).
    """
    obj = (event.get("data") or {}).get("object") or {}
    if event.get("type") not in COMPLETING_EVENTS or not obj.get("id"):
        return None
    return grant_from_session(get_gateway().retrieve_checkout_session(str(obj["id"])))
