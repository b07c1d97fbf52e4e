"""Stripe's hosted pages for the billing tests: what localstripe lacks, on Stripe's wire protocol.

localstripe has no Checkout Sessions, Prices or billing portal and never reports ``trialing``.
:class:`HostedStripe` is a small HTTP server (stdlib ``http.server`` in a thread) that answers
``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/<id>`` and
``POST /v1/billing_portal/sessions`` itself, forwards every other request to an upstream
localstripe, and records every request it receives (path, form params, ``Idempotency-Key``,
``Authorization``), so one ``STRIPE_API_BASE`` serves the whole ``StripeBilling`` gateway and
the tests can assert what the SDK sent.

:meth:`HostedStripe.complete_checkout` does what Stripe does when the customer pays on the
Checkout page: the customer gets a test card as default payment method and a subscription
(at localstripe, from the legacy plan whose id is the price id); the session becomes
``complete`` and the ``checkout.session`` object to put in a ``checkout.session.completed``
event is returned. :meth:`HostedStripe.show_subscription` overlays fields (``status``,
``trial_end``…) on the subscription as served, since localstripe cannot run a trial.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

CHECKOUT_HOST = "https://checkout.stripe.test"
PORTAL_HOST = "https://billing.stripe.test"
FORWARDED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version", "Stripe-Account",
                     "Accept")


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts; list indexes stay
    string keys (``{"line_items": {"0": {"price": …}}}``)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@dataclass
class Recorded:
    """One request the server received: ``form`` is flat (``form["line_items[0][price]"]``),
    ``params`` the same nested, ``headers`` as sent."""

    method: str
    path: str
    query: str
    form: dict[str, str]
    params: dict[str, Any]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` header, if any."""
        return self.headers.get("Idempotency-Key")

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header (``Bearer <secret key>``)."""
        return self.headers.get("Authorization")


@dataclass
class HostedStripe:
    """The server's state: requests received, sessions created, subscription overlays.

    ``upstream`` is the localstripe URL other requests go to (``None``: they answer 404).
    """

    upstream: str | None = None
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    checkout_sessions: dict[str, dict] = field(default_factory=dict)
    portal_sessions: dict[str, dict] = field(default_factory=dict)
    overlays: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the tests read --------------------------------------------------------------

    def requests_to(self, path: str, method: str = "POST") -> list[Recorded]:
        """The recorded requests with ``method`` to exactly ``path`` (e.g. ``/v1/checkout/sessions``)."""
        with self.lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def reset(self) -> None:
        """Forget recorded requests, sessions and overlays (between tests)."""
        with self.lock:
            self.requests.clear()
            self.checkout_sessions.clear()
            self.portal_sessions.clear()
            self.overlays.clear()

    def session_by_url(self, url: str) -> dict:
        """The Checkout Session whose hosted page is ``url``."""
        with self.lock:
            return next(s for s in self.checkout_sessions.values() if s["url"] == url)

    # --- what Stripe would do -------------------------------------------------------------

    def show_subscription(self, subscription_id: str, **fields: Any) -> None:
        """Serve subscription ``subscription_id`` with ``fields`` overriding localstripe's
        (e.g. ``status="trialing", trial_end=<unix time>``)."""
        with self.lock:
            self.overlays.setdefault(subscription_id, {}).update(fields)

    def complete_checkout(self, session_id: str, card: str = "4242424242424242") -> dict:
        """Pay Checkout Session ``session_id`` as its customer would: a test card becomes the
        customer's default payment method, a subscription to the session's price is created at
        localstripe with the session's ``subscription_data[metadata]``; with
        ``subscription_data[trial_period_days]`` it is served as ``trialing`` until then.
        Returns the completed ``checkout.session`` object (the event's ``data.object``).

        Real Checkout also sets the subscription's ``default_payment_method``; localstripe has
        no such field, so the card is the customer's invoice default instead."""
        if self.checkout_sessions[session_id].get("mode") == "payment":
            return self._complete_payment(session_id)
        assert self.upstream, "completing a checkout needs the upstream localstripe"
        with self.lock:
            session = self.checkout_sessions[session_id]
            params = session["_params"]
            if session["status"] != "open":
                raise RuntimeError(f"checkout session {session_id} is {session['status']}: it cannot be paid")
        v1 = stripe.StripeClient("sk_test_hosted", base_addresses={"api": self.upstream}).v1
        customer = session["customer"]
        pm = v1.payment_methods.create(params={
            "type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
        v1.payment_methods.attach(pm.id, params={"customer": customer})
        v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": pm.id}})
        sub_data = params.get("subscription_data") or {}
        items = [{"plan": item["price"], "quantity": int(item.get("quantity") or 1)}
                 for _, item in sorted((params.get("line_items") or {}).items())]
        sub = v1.subscriptions.create(params={"customer": customer, "items": items,
                                              "metadata": sub_data.get("metadata") or {}})
        trial_days = int(sub_data.get("trial_period_days") or 0)
        if trial_days:
            trial_start = int(time.time())
            self.show_subscription(sub.id, status="trialing", trial_start=trial_start,
                                   trial_end=trial_start + trial_days * 86400)
        with self.lock:
            session.update(status="complete", payment_status="paid", subscription=sub.id)
            return _public(session)

    def _complete_payment(self, session_id: str) -> dict:
        """A one-time payment (``mode=payment``, issue 13's credit packs): the session becomes
        ``complete``/``paid`` with ``amount_total`` and ``currency`` from its ``price_data`` line
        items and a payment intent id; no upstream call."""
        with self.lock:
            session = self.checkout_sessions[session_id]
            if session["status"] != "open":
                raise RuntimeError(f"checkout session {session_id} is {session['status']}: it cannot be paid")
            items = list((session["_params"].get("line_items") or {}).values())
            total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity") or 1) for i in items)
            session.update(status="complete", payment_status="paid", amount_total=total,
                           currency=items[0]["price_data"]["currency"],
                           payment_intent=f"pi_test_{secrets.token_hex(12)}")
            return _public(session)

    # --- the HTTP side --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        """Answer one request: ``(status, body, content type)``."""
        parts = urlsplit(target)
        text = body.decode() if body else ""
        pairs = parse_qsl(text if method == "POST" else parts.query, keep_blank_values=True)
        record = Recorded(method, parts.path, parts.query, dict(pairs), nest(pairs), headers)
        with self.lock:
            self.requests.append(record)
        if method == "POST" and parts.path == "/v1/checkout/sessions":
            return _json(200, self._create_checkout(record.params))
        if method == "POST" and parts.path.startswith("/v1/checkout/sessions/") and parts.path.endswith("/expire"):
            return self._expire_checkout(parts.path.split("/")[4])
        if method == "GET" and parts.path.startswith("/v1/checkout/sessions/"):
            with self.lock:
                found = self.checkout_sessions.get(parts.path.rsplit("/", 1)[1])
                return _json(200, _public(found)) if found else _not_found("checkout.session")
        if method == "POST" and parts.path == "/v1/billing_portal/sessions":
            return _json(200, self._create_portal(record.params))
        if not self.upstream:
            return _not_found("resource")
        return self._forward(method, target, headers, body)

    def _create_checkout(self, params: dict[str, Any]) -> dict:
        sid = f"cs_test_{secrets.token_hex(12)}"
        session = {
            "id": sid, "object": "checkout.session", "mode": params.get("mode"), "status": "open",
            "payment_status": "unpaid", "customer": params.get("customer"), "subscription": None,
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata") or {},
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "url": f"{CHECKOUT_HOST}/c/pay/{sid}", "livemode": False, "created": int(time.time()),
            "_params": params,
        }
        with self.lock:
            self.checkout_sessions[sid] = session
            return _public(session)

    def _expire_checkout(self, session_id: str) -> tuple[int, bytes, str]:
        """Stripe's expire: only an ``open`` session can be expired; it can then never be paid."""
        with self.lock:
            session = self.checkout_sessions.get(session_id)
            if session is None:
                return _not_found("checkout.session")
            if session["status"] != "open":
                return _json(400, {"error": {"type": "invalid_request_error", "message":
                                             'Only Checkout Sessions with a status in ["open"] can be expired.'}})
            session["status"] = "expired"
            return _json(200, _public(session))

    def _create_portal(self, params: dict[str, Any]) -> dict:
        pid = f"bps_test_{secrets.token_hex(12)}"
        session = {"id": pid, "object": "billing_portal.session", "customer": params.get("customer"),
                   "return_url": params.get("return_url"), "url": f"{PORTAL_HOST}/p/session/{pid}",
                   "livemode": False, "created": int(time.time())}
        with self.lock:
            self.portal_sessions[pid] = session
        return session

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        req = urllib.request.Request(f"{self.upstream}{target}", data=body if method != "GET" else None,
                                     method=method,
                                     headers={k: v for k, v in headers.items() if k in FORWARDED_HEADERS})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - a local test URL
                status, data, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, data, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
            exc.close()
        return status, self._overlay(data), ctype or "application/json"

    def _overlay(self, data: bytes) -> bytes:
        with self.lock:
            if not self.overlays:
                return data
            try:
                obj = json.loads(data)
            except ValueError:
                return data
            if isinstance(obj, dict) and obj.get("object") == "subscription" and obj.get("id") in self.overlays:
                return json.dumps({**obj, **self.overlays[obj["id"]]}).encode()
            return data


def _public(session: dict) -> dict:
    return {k: v for k, v in session.items() if not k.startswith("_")}


def _json(status: int, obj: dict) -> tuple[int, bytes, str]:
    return status, json.dumps(obj).encode(), "application/json"


def _not_found(what: str) -> tuple[int, bytes, str]:
    return _json(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                 "message": f"No such {what}"}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, data, ctype = self.server.stub.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's method names

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: HostedStripe


@contextmanager
def running_hosted_stripe(upstream: str | None = None) -> Iterator[HostedStripe]:
    """Serve a :class:`HostedStripe` on 127.0.0.1 for the block (forwarding to ``upstream``);
    its ``url`` is the ``STRIPE_API_BASE`` to configure."""
    stub = HostedStripe(upstream=upstream.rstrip("/") if upstream else None)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stub = stub
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="hosted-stripe", daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
