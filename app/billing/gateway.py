"""The billing gateway: the only code that talks to Stripe about Plaza's own subscriptions.

:class:`StripeBilling` wraps the official SDK (``stripe.StripeClient`` with
``base_addresses={"api": STRIPE_API_BASE}``) for customers, payment methods, subscriptions,
invoices and payment intents. What localstripe lacks (Prices, Checkout Sessions, the billing
portal) is kept thin: :class:`StripeBilling` calls Stripe for it, :class:`LocalBilling`
(``STRIPE_MODE=local``) does the local equivalent against localstripe — a legacy Plan whose id
is the configured price id, ``items[].plan`` instead of ``items[].price``, ``prorate`` instead
of ``proration_behavior``, and a server-side test card instead of Checkout.

Objects are returned as plain ``dict``; Stripe failures raise :class:`BillingGatewayError`.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from app.billing.plans import PAID_PLANS, setting


class BillingGatewayError(RuntimeError):
    """Stripe refused or failed a call: ``code`` (Stripe's error code or ``None``), ``status`` (HTTP)."""

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _plain(obj: Any) -> dict:
    if hasattr(obj, "to_dict"):
        return json.loads(json.dumps(obj.to_dict(), default=str))
    return dict(obj)


class StripeBilling:
    """Plaza's subscriptions on Stripe through ``stripe.StripeClient`` (``api_key``, optional ``api_base``)."""

    local = False

    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        bases = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses=bases) if bases else stripe.StripeClient(api_key)
        self.v1 = self.client.v1

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> dict:
        try:
            return _plain(fn(*args, **kwargs))
        except stripe.StripeError as exc:
            raise BillingGatewayError(exc.user_message or str(exc), getattr(exc, "code", None),
                                      exc.http_status) from exc

    # customers and cards ------------------------------------------------------------------

    def create_customer(self, email: str, name: str, tenant_id: str) -> dict:
        """A Stripe customer for a business (``metadata.tenant_id``)."""
        return self._call(self.v1.customers.create, params={
            "email": email, "name": name, "metadata": {"tenant_id": tenant_id}},
            options={"idempotency_key": f"plaza-customer-{tenant_id}"})

    def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> dict:
        """Attach ``payment_method_id`` to the customer and make it the invoices' default."""
        self._call(self.v1.payment_methods.attach, payment_method_id, params={"customer": customer_id})
        return self._call(self.v1.customers.update, customer_id, params={
            "invoice_settings": {"default_payment_method": payment_method_id}})

    def create_test_payment_method(self, card_number: str = "4242424242424242") -> str:
        """A card payment method from a test card number (test mode / localstripe only); its id."""
        pm = self._call(self.v1.payment_methods.create, params={
            "type": "card", "card": {"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
        return pm["id"]

    # subscriptions ------------------------------------------------------------------------

    def _item(self, price_id: str) -> dict:
        return {"price": price_id}

    def create_subscription(self, customer_id: str, price_id: str, tenant_id: str, trial_days: int = 0) -> dict:
        """Subscribe the customer to ``price_id`` (charging its default payment method)."""
        params: dict[str, Any] = {"customer": customer_id, "items": [self._item(price_id)],
                                  "metadata": {"tenant_id": tenant_id}}
        if trial_days:
            params["trial_period_days"] = trial_days
        return self._call(self.v1.subscriptions.create, params=params)

    def _proration(self) -> dict:
        return {"proration_behavior": "create_prorations"}

    def change_price(self, subscription_id: str, price_id: str) -> dict:
        """Move the subscription's single item to ``price_id``, prorating the period."""
        sub = self.retrieve_subscription(subscription_id)
        item_id = sub["items"]["data"][0]["id"]
        return self._call(self.v1.subscriptions.update, subscription_id, params={
            "items": [{"id": item_id, **self._item(price_id)}], **self._proration()})

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool) -> dict:
        """Cancel at the period's end (``True``) or resume (``False``)."""
        return self._call(self.v1.subscriptions.update, subscription_id,
                          params={"cancel_at_period_end": cancel})

    def cancel_now(self, subscription_id: str) -> dict:
        """End the subscription immediately (admin / tests)."""
        return self._call(self.v1.subscriptions.cancel, subscription_id)

    # reads --------------------------------------------------------------------------------

    def retrieve_subscription(self, subscription_id: str) -> dict:
        """The subscription as Stripe has it now."""
        return self._call(self.v1.subscriptions.retrieve, subscription_id)

    def retrieve_subscription_with_invoice(self, subscription_id: str) -> dict:
        """The subscription as Stripe has it now, its ``latest_invoice`` expanded to the invoice
        object (``None`` when it has none): one request instead of two."""
        return self._call(self.v1.subscriptions.retrieve, subscription_id, params={"expand": ["latest_invoice"]})

    def retrieve_invoice(self, invoice_id: str) -> dict:
        """The invoice as Stripe has it now."""
        return self._call(self.v1.invoices.retrieve, invoice_id)

    def retrieve_payment_intent(self, payment_intent_id: str) -> dict:
        """The payment intent as Stripe has it now."""
        return self._call(self.v1.payment_intents.retrieve, payment_intent_id)

    def list_invoices(self, customer_id: str, limit: int = 24) -> list[dict]:
        """The customer's most recent invoices, newest first."""
        page = self._call(self.v1.invoices.list, params={"customer": customer_id, "limit": limit})
        return list(page.get("data", []))

    def pay_invoice(self, invoice_id: str) -> dict:
        """Retry payment of an open invoice with the customer's default payment method."""
        return self._call(self.v1.invoices.pay, invoice_id)

    # hosted pages (thin) ------------------------------------------------------------------

    def checkout_session(self, customer_id: str, price_id: str, tenant_id: str, trial_days: int,
                         success_url: str, cancel_url: str, idempotency_key: str) -> dict | None:
        """A Stripe Checkout Session in subscription mode (card collected by Stripe, SCA
        handled) as ``dict`` with ``id`` and ``url``; ``None`` in local mode, where the page
        subscribes directly. (https://docs.stripe.com/api/checkout/sessions/create)"""
        params: dict[str, Any] = {
            "mode": "subscription", "customer": customer_id, "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url, "cancel_url": cancel_url, "client_reference_id": tenant_id,
            "subscription_data": {"metadata": {"tenant_id": tenant_id}}}
        if trial_days:
            params["subscription_data"]["trial_period_days"] = trial_days
        return self._call(self.v1.checkout.sessions.create, params=params,
                          options={"idempotency_key": idempotency_key})

    def retrieve_checkout_session(self, session_id: str) -> dict:
        """The Checkout Session as Stripe has it now (``status``: open, complete, expired)."""
        return self._call(self.v1.checkout.sessions.retrieve, session_id)

    def expire_checkout_session(self, session_id: str) -> dict:
        """Expire an open Checkout Session, so it can no longer be paid
        (https://docs.stripe.com/api/checkout/sessions/expire)."""
        return self._call(self.v1.checkout.sessions.expire, session_id)

    def portal_url(self, customer_id: str, return_url: str) -> str | None:
        """A Stripe billing-portal URL to update the card, or ``None`` in local mode."""
        return self._call(self.v1.billing_portal.sessions.create,
                          params={"customer": customer_id, "return_url": return_url})["url"]


class LocalBilling(StripeBilling):
    """Against localstripe (``STRIPE_MODE=local``): legacy plans stand in for prices, cards are
    test cards created server-side, and there is no Checkout or portal."""

    local = True

    def _item(self, price_id: str) -> dict:
        return {"plan": price_id}

    def _proration(self) -> dict:
        return {"prorate": True}

    def ensure_prices(self) -> None:
        """Create a product and a monthly plan for each configured paid plan (id = its price id)."""
        for plan in PAID_PLANS:
            if not plan.price_id:
                continue
            try:
                self.v1.plans.retrieve(plan.price_id)
                continue
            except stripe.InvalidRequestError:
                pass
            product = self._call(self.v1.products.create, params={"name": f"Plaza {plan.name}"})
            self._call(self.v1.plans.create, params={
                "id": plan.price_id, "product": product["id"], "amount": plan.monthly_amount,
                "currency": plan.currency.lower(), "interval": "month"})

    def create_subscription(self, customer_id: str, price_id: str, tenant_id: str, trial_days: int = 0) -> dict:
        """As :meth:`StripeBilling.create_subscription`, making sure the local plan exists first."""
        self.ensure_prices()
        return super().create_subscription(customer_id, price_id, tenant_id, trial_days)

    def change_price(self, subscription_id: str, price_id: str) -> dict:
        """As :meth:`StripeBilling.change_price`, making sure the local plan exists first."""
        self.ensure_prices()
        return super().change_price(subscription_id, price_id)

    def checkout_session(self, customer_id: str, price_id: str, tenant_id: str, trial_days: int,
                         success_url: str, cancel_url: str, idempotency_key: str) -> dict | None:
        """No Checkout locally: the page subscribes directly with a test card."""
        return None

    def portal_url(self, customer_id: str, return_url: str) -> str | None:
        """No portal locally: the page replaces the card with a test card."""
        return None


#: One gateway per (class, key, API base) per process: its SDK client keeps a keep-alive HTTP
#: session per thread, so a webhook job's re-fetches reuse a connection instead of opening one.
_GATEWAYS: dict[tuple[type, str, str | None], StripeBilling] = {}


def get_gateway() -> StripeBilling:
    """The configured gateway (``STRIPE_MODE=local`` -> :class:`LocalBilling`), shared by the
    process's threads and jobs while the settings stay the same (a changed key or base gets a new one).

    Raises:
        BillingGatewayError: ``STRIPE_SECRET_KEY`` is not set.
    """
    key = setting("STRIPE_SECRET_KEY")
    if not key:
        raise BillingGatewayError("billing is not configured (STRIPE_SECRET_KEY is unset)")
    base = setting("STRIPE_API_BASE") or None
    cls = LocalBilling if setting("STRIPE_MODE") == "local" else StripeBilling
    gateway = _GATEWAYS.get((cls, key, base))
    if gateway is None:
        gateway = _GATEWAYS[(cls, key, base)] = cls(key, base)
    return gateway
