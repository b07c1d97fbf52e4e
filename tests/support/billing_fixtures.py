"""Shared fixtures for the billing and webhook tests: localstripe, Stripe settings, signed posts."""

from __future__ import annotations

import json

import pytest

from tests.localstripe_server import event_json, running_localstripe, sign

SECRET = "whsec_test_current"
PREVIOUS = "whsec_test_previous"
PRO = "price_test_pro"
PREMIUM = "price_test_premium"


@pytest.fixture(scope="module")
def localstripe_url():
    """A localstripe server for the module, with Pro (monthly) and Premium (yearly) plans."""
    import stripe

    with running_localstripe() as url:
        client = stripe.StripeClient("sk_test_local", base_addresses={"api": url}).v1
        for pid, amount, interval in ((PRO, 2900, "month"), (PREMIUM, 99000, "year")):
            product = client.products.create(params={"name": pid})
            client.plans.create(params={"id": pid, "product": product.id, "amount": amount, "currency": "usd",
                                        "interval": interval})
        yield url


@pytest.fixture
def stripe_on(app, localstripe_url, monkeypatch):
    """Billing configured against localstripe (local mode) with both webhook secrets."""
    for key, value in {"STRIPE_SECRET_KEY": "sk_test_local", "STRIPE_API_BASE": localstripe_url,
                       "STRIPE_MODE": "local", "STRIPE_PRICE_PRO": PRO, "STRIPE_PRICE_PREMIUM": PREMIUM,
                       "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_WEBHOOK_SECRET_PREVIOUS": PREVIOUS}.items():
        monkeypatch.setitem(app.config, key, value)
    return localstripe_url


BILLING_BASE = "http://bella.localhost"


def page(client):
    """GET the billing page of bella (the client is logged in as its owner)."""
    return client.get("/dashboard/billing", base_url=BILLING_BASE)


def act(client, path: str, **data):
    """POST a billing action form (``subscribe``, ``change``, ``card``…) with the page's CSRF token."""
    from tests.helpers import csrf_from

    token = csrf_from(page(client).data)
    return client.post(f"/dashboard/billing/{path}", base_url=BILLING_BASE, data={"csrf_token": token, **data})


def deliver(client, event_id: str, event_type: str, obj: dict, secret: str = SECRET, host: str = "localhost"):
    """POST a signed event to ``/webhooks/stripe``; returns the response."""
    body = event_json(event_id, event_type, obj)
    return client.post("/webhooks/stripe", data=body, base_url=f"http://{host}",
                       headers={"Stripe-Signature": sign(body, secret), "Content-Type": "application/json"})


def post_raw(client, body: str | bytes, header: str):
    """POST ``body`` as is with ``Stripe-Signature: header``."""
    return client.post("/webhooks/stripe", data=body, base_url="http://localhost",
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


__all__ = ["json", "act", "deliver", "page", "post_raw", "stripe_on", "localstripe_url"]
