"""The payments gateway: the only code that talks to Stripe about customer payments.

:class:`StripePayments` wraps the official SDK (``stripe.StripeClient`` pointed at
``STRIPE_API_BASE``, so tests use localstripe) for PaymentIntents, SetupIntents, Refunds and
off-session charges; every write carries an idempotency key. Connect (account creation,
onboarding links, account status) sits behind :class:`ConnectBackend`, with
:class:`StripeConnect` for real Stripe and :class:`LocalConnect` (state in Redis) for tests
and development, since localstripe has no Connect.

Configuration (``app.config`` first, then the environment):

* ``STRIPE_SECRET_KEY``: unset means customer payments are off everywhere.
* ``STRIPE_API_BASE``: API base URL (default Stripe's), e.g. ``http://127.0.0.1:8420``.
* ``STRIPE_CONNECT``: ``stripe`` or ``local`` (default ``local`` when billing's
  ``STRIPE_MODE=local`` or ``STRIPE_API_BASE`` is set, else ``stripe``). With ``local`` no Connect parameters go to Stripe (plain
  PaymentIntents; the application fee is only recorded in the ledger).
* ``STRIPE_TEST_PAYMENTS``: ``1`` shows the "pay with a test card" button on the pay step
  (default on only against the stand-in: ``STRIPE_MODE=local`` or ``STRIPE_API_BASE``; never
  with ``ENV=production`` or a live key).

Objects are returned as plain ``dict`` (the SDK's ``to_dict()``); Stripe errors surface as
:class:`GatewayError` with Stripe's ``code`` when there is one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from app.config import config_str as setting
from app.redis_client import get_redis


class GatewayError(RuntimeError):
    """Stripe refused or failed a call: ``code`` (Stripe's error code or ``None``), ``status`` (HTTP)."""

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status



def payments_enabled() -> bool:
    """True when ``STRIPE_SECRET_KEY`` is set: customer payments are offered."""
    return bool(setting("STRIPE_SECRET_KEY"))


def _to_dict(obj: Any) -> dict:
    if isinstance(obj, dict) and not hasattr(obj, "to_dict"):
        return obj
    return json.loads(json.dumps(obj.to_dict(), default=str)) if hasattr(obj, "to_dict") else dict(obj)


def _call(fn: Any, *args: Any, **kwargs: Any) -> dict:
    try:
        return _to_dict(fn(*args, **kwargs))
    except stripe.StripeError as exc:
        raise GatewayError(exc.user_message or str(exc), getattr(exc, "code", None), exc.http_status) from exc


class StripePayments:
    """PaymentIntents, SetupIntents, Refunds and Customers through ``stripe.StripeClient``.

    ``connect`` is True when Connect parameters (``transfer_data``, ``on_behalf_of``,
    ``application_fee_amount``) are sent; localstripe does not accept them.
    """

    def __init__(self, api_key: str, api_base: str | None = None, connect: bool = True) -> None:
        bases = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses=bases, max_network_retries=0)  # type: ignore[arg-type]
        self.connect = connect

    # --- customers and cards
    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> dict:
        """A Stripe Customer for a booking's customer (to save a card for off-session fees)."""
        return _call(self.client.v1.customers.create, {"email": email, "name": name},
                     {"idempotency_key": idempotency_key})

    def create_setup_intent(self, *, customer: str, metadata: dict[str, str], idempotency_key: str,
                            usage: str = "off_session") -> dict:
        """A SetupIntent saving a card on ``customer``: ``usage="off_session"`` for later charges
        without the customer (the policy's fees), ``"on_session"`` for a payment made now.
        (https://docs.stripe.com/api/setup_intents/create#create_setup_intent-usage)"""
        return _call(self.client.v1.setup_intents.create,
                     {"customer": customer, "usage": usage, "metadata": metadata},
                     {"idempotency_key": idempotency_key})

    def confirm_setup_intent(self, setup_intent_id: str, *, payment_method: str, idempotency_key: str) -> dict:
        """Confirm a SetupIntent server-side with ``payment_method`` (test-card flow)."""
        return _call(self.client.v1.setup_intents.confirm, setup_intent_id, {"payment_method": payment_method},
                     {"idempotency_key": idempotency_key})

    def retrieve_setup_intent(self, setup_intent_id: str) -> dict:
        """The SetupIntent's current state."""
        return _call(self.client.v1.setup_intents.retrieve, setup_intent_id)

    # --- payment intents
    def create_payment_intent(self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str,
                              customer: str | None = None, destination: str | None = None,
                              application_fee: int = 0) -> dict:
        """A PaymentIntent for ``amount`` minor units of ``currency`` (lower-cased for Stripe).

        With Connect on and a ``destination`` account: a destination charge on behalf of that
        account with ``application_fee`` for Plaza.
        """
        params: dict[str, Any] = {"amount": amount, "currency": currency.lower(), "metadata": metadata}
        if customer:
            params["customer"] = customer
        if self.connect and destination:
            params["transfer_data"] = {"destination": destination}
            params["on_behalf_of"] = destination
            if application_fee:
                params["application_fee_amount"] = application_fee
        return _call(self.client.v1.payment_intents.create, params, {"idempotency_key": idempotency_key})

    def retrieve_payment_intent(self, payment_intent_id: str) -> dict:
        """The PaymentIntent's current state."""
        return _call(self.client.v1.payment_intents.retrieve, payment_intent_id)

    def confirm_payment_intent(self, payment_intent_id: str, *, payment_method: str, idempotency_key: str,
                               customer: str | None = None) -> dict:
        """Set ``payment_method`` (and its ``customer``, needed when the card was saved on one)
        and confirm server-side: the test-card button, and the card form after Stripe.js saved
        the card with a SetupIntent. A bank that asks for authentication leaves the intent in
        ``requires_action`` for Stripe.js ``confirmCardPayment``.
        (https://docs.stripe.com/payments/save-during-payment, "finalize payments on the server")"""
        params: dict[str, Any] = {"payment_method": payment_method}
        if customer:
            params["customer"] = customer
        _call(self.client.v1.payment_intents.update, payment_intent_id, params,
              {"idempotency_key": idempotency_key + ":pm"})
        return _call(self.client.v1.payment_intents.confirm, payment_intent_id, {},
                     {"idempotency_key": idempotency_key + ":confirm"})

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> dict:
        """Cancel a PaymentIntent that has not succeeded."""
        return _call(self.client.v1.payment_intents.cancel, payment_intent_id, {},
                     {"idempotency_key": idempotency_key})

    def charge_off_session(self, *, amount: int, currency: str, customer: str, payment_method: str,
                           metadata: dict[str, str], idempotency_key: str, destination: str | None = None,
                           application_fee: int = 0) -> dict:
        """Charge a saved card without the customer present (late-cancellation / no-show fee)."""
        params: dict[str, Any] = {"amount": amount, "currency": currency.lower(), "customer": customer,
                                  "payment_method": payment_method, "confirm": True, "off_session": True,
                                  "metadata": metadata}
        if self.connect and destination:
            params["transfer_data"] = {"destination": destination}
            params["on_behalf_of"] = destination
            if application_fee:
                params["application_fee_amount"] = application_fee
        return _call(self.client.v1.payment_intents.create, params, {"idempotency_key": idempotency_key})

    # --- refunds
    def create_refund(self, *, payment_intent: str, amount: int, metadata: dict[str, str],
                      idempotency_key: str) -> dict:
        """Refund ``amount`` minor units of ``payment_intent`` (Connect: reversing the transfer
        and Plaza's fee proportionally)."""
        params: dict[str, Any] = {"payment_intent": payment_intent, "amount": amount, "metadata": metadata}
        if self.connect:
            params["reverse_transfer"] = True
            params["refund_application_fee"] = True
        return _call(self.client.v1.refunds.create, params, {"idempotency_key": idempotency_key})

    def list_refunds(self, payment_intent: str) -> list[dict]:
        """Every refund of ``payment_intent`` (newest first)."""
        result = _call(self.client.v1.refunds.list, {"payment_intent": payment_intent, "limit": 100})
        return list(result.get("data", []))

    def retrieve_refund(self, refund_id: str) -> dict:
        """The Refund's current state."""
        return _call(self.client.v1.refunds.retrieve, refund_id)


@dataclass(frozen=True)
class AccountStatus:
    """A connected account's state: ``charges_enabled``, ``details_submitted``, ``payouts_enabled``."""

    account_id: str
    charges_enabled: bool
    details_submitted: bool
    payouts_enabled: bool


class ConnectBackend(Protocol):
    """Connect onboarding behind one interface (real Stripe or local)."""

    def create_account(self, *, email: str, country: str | None, idempotency_key: str) -> str:
        """Create an Express account; returns its id (``acct_…``)."""

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """A one-time URL where the owner completes onboarding."""

    def retrieve_account(self, account_id: str) -> AccountStatus:
        """The account's current status."""


class StripeConnect:
    """Connect through Stripe's API (Express accounts and Account Links)."""

    def __init__(self, payments: StripePayments) -> None:
        self.client = payments.client

    def create_account(self, *, email: str, country: str | None, idempotency_key: str) -> str:
        """Create an Express account with card payments and transfers requested."""
        params: dict[str, Any] = {"type": "express", "email": email,
                                  "capabilities": {"card_payments": {"requested": True},
                                                   "transfers": {"requested": True}}}
        if country:
            params["country"] = country
        return _call(self.client.v1.accounts.create, params, {"idempotency_key": idempotency_key})["id"]

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """An ``account_onboarding`` Account Link."""
        link = _call(self.client.v1.account_links.create, {"account": account_id, "refresh_url": refresh_url,
                                                             "return_url": return_url, "type": "account_onboarding"})
        return link["url"]

    def retrieve_account(self, account_id: str) -> AccountStatus:
        """Re-fetch the account."""
        acct = _call(self.client.v1.accounts.retrieve, account_id)
        return AccountStatus(acct["id"], bool(acct.get("charges_enabled")), bool(acct.get("details_submitted")),
                             bool(acct.get("payouts_enabled")))


class LocalConnect:
    """Connect without Stripe: accounts live in Redis (``plaza:local-connect:<id>``); the
    onboarding link points to Plaza's own ``/dashboard/payments/connect/local/<id>`` page,
    which completes onboarding (:meth:`complete`)."""

    PREFIX = "plaza:local-connect:"

    def _redis(self):  # noqa: ANN202 - redis client
        return get_redis()

    def create_account(self, *, email: str, country: str | None, idempotency_key: str) -> str:
        """A new local account (``acct_local_…``), idempotent per key."""
        redis = self._redis()
        key = self.PREFIX + "idem:" + idempotency_key
        existing = redis.get(key)
        if existing:
            return existing.decode() if isinstance(existing, bytes) else existing
        account_id = "acct_local_" + uuid.uuid4().hex[:16]
        redis.set(self.PREFIX + account_id, json.dumps({"charges_enabled": False, "details_submitted": False,
                                                        "payouts_enabled": False, "email": email}))
        redis.set(key, account_id)
        return account_id

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """Plaza's local onboarding page for ``account_id`` (returns to ``return_url``)."""
        from urllib.parse import urlencode

        return f"/dashboard/payments/connect/local/{account_id}?" + urlencode({"return_url": return_url})

    def complete(self, account_id: str) -> None:
        """Mark the local account fully onboarded (what finishing Stripe's form does)."""
        redis = self._redis()
        raw = redis.get(self.PREFIX + account_id)
        if raw is None:
            raise GatewayError("No such account", "resource_missing", 404)
        data = json.loads(raw)
        data.update(charges_enabled=True, details_submitted=True, payouts_enabled=True)
        redis.set(self.PREFIX + account_id, json.dumps(data))

    def retrieve_account(self, account_id: str) -> AccountStatus:
        """The local account's status.

        Raises:
            GatewayError: unknown account.
        """
        raw = self._redis().get(self.PREFIX + account_id)
        if raw is None:
            raise GatewayError("No such account", "resource_missing", 404)
        data = json.loads(raw)
        return AccountStatus(account_id, data["charges_enabled"], data["details_submitted"], data["payouts_enabled"])


def connect_mode() -> str:
    """``stripe`` or ``local`` (see the module docstring)."""
    mode = setting("STRIPE_CONNECT")
    if mode in ("stripe", "local"):
        return mode
    return "local" if setting("STRIPE_MODE") == "local" or setting("STRIPE_API_BASE") else "stripe"


def stand_in_configured() -> bool:
    """True when Stripe calls go to a local stand-in (``STRIPE_MODE=local`` or ``STRIPE_API_BASE``,
    i.e. localstripe), never to Stripe itself."""
    return setting("STRIPE_MODE") == "local" or bool(setting("STRIPE_API_BASE"))


def test_payments_allowed() -> bool:
    """True when the pay step may offer the server-side "pay with a test card" button
    (:func:`app.checkout.pay.pay_with_test_card`), a test hook: by default only against the
    Stripe stand-in (:func:`stand_in_configured`); ``STRIPE_TEST_PAYMENTS=1`` turns it on and
    ``0`` off explicitly. Never with ``ENV=production`` or a live key (``sk_live_``/``rk_live_``)."""
    if setting("ENV") == "production" or setting("STRIPE_SECRET_KEY").startswith(("sk_live_", "rk_live_")):
        return False
    raw = setting("STRIPE_TEST_PAYMENTS")
    if raw:
        return raw.lower() in {"1", "true", "yes", "on"}
    return stand_in_configured()


DEFAULT_STRIPE_JS = "https://js.stripe.com/v3/"


def stripe_js_url() -> str:
    """Where the pay step loads Stripe.js from (``STRIPE_JS_URL``, default Stripe's own; tests
    point it at localstripe's stand-in, ``<localstripe>/js.stripe.com/v3/``)."""
    return setting("STRIPE_JS_URL") or DEFAULT_STRIPE_JS


def card_form_enabled() -> bool:
    """True when the pay step shows the Stripe.js card form (``STRIPE_PUBLISHABLE_KEY`` and
    ``STRIPE_SECRET_KEY`` both set)."""
    return payments_enabled() and bool(setting("STRIPE_PUBLISHABLE_KEY"))


def stripe_csp_sources() -> dict[str, list[str]]:
    """Content-Security-Policy sources Stripe.js needs on Plaza's pages, by directive, when the
    card form is on (https://docs.stripe.com/security/guide#content-security-policy); empty
    otherwise. A non-default ``STRIPE_JS_URL`` (localstripe) adds its own origin, which its
    stand-in script also calls."""
    if not card_form_enabled():
        return {}
    from urllib.parse import urlsplit

    parts = urlsplit(stripe_js_url())
    origin = f"{parts.scheme}://{parts.netloc}"
    if stripe_js_url() == DEFAULT_STRIPE_JS:
        return {"script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
                "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
                "connect-src": ["https://api.stripe.com"]}
    return {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]}


def get_payments() -> StripePayments:
    """The configured :class:`StripePayments`.

    Raises:
        GatewayError: payments are off (no ``STRIPE_SECRET_KEY``).
    """
    key = setting("STRIPE_SECRET_KEY")
    if not key:
        raise GatewayError("Stripe is not configured", "not_configured")
    return StripePayments(key, setting("STRIPE_API_BASE") or None, connect=connect_mode() == "stripe")


def get_connect() -> ConnectBackend:
    """The configured Connect backend (:class:`LocalConnect` or :class:`StripeConnect`)."""
    if connect_mode() == "local":
        return LocalConnect()
    return StripeConnect(get_payments())
