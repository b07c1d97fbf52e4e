# ruff: noqa: F811 - pytest fixtures imported from the shared fixture modules
"""The notification bell and Web Push in Chromium against a running server.

- A logged-in customer on a page without chat sees the bell's unread count go up, without a
  reload, when a booking change for them goes through the real fan-out path (outbox -> jobs ->
  notification center -> Socket.IO through Redis); the page holds exactly one Socket.IO
  connection, shared with the chat on a conversation page; anonymous pages open none.
- "Turn on push" on the settings page stores the browser's subscription for that person
  (the browser's PushManager is stubbed: no push service is reachable here), and the service
  worker's ``pushsubscriptionchange`` stores the replacement and forgets the old endpoint.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from tests.support.chat_fixtures import WebProcess, world  # noqa: F401
from tests.support.chat_fixtures import logged_in_page as _logged_in_page
from tests.support.conftest_mail import mailbox  # noqa: F401

pytestmark = pytest.mark.e2e


def _vapid_public_key() -> str:
    """A fresh P-256 public key, base64url (the form browsers subscribe with)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    raw = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def server(services) -> Iterator[WebProcess]:
    """One web process (one worker, as in production) with Web Push configured."""
    proc = WebProcess({**services, "VAPID_PUBLIC_KEY": _vapid_public_key()})
    yield proc
    proc.stop()


class SocketLog:
    """The page's Socket.IO traffic: Engine.IO handshakes (a polling request without a ``sid``
    opens a connection) and WebSocket upgrades (each names the ``sid`` it upgrades)."""

    def __init__(self, page) -> None:
        self.handshakes: list[str] = []
        self.websockets: list[str] = []
        self.badge_requests: list[str] = []
        page.on("request", self._request)
        page.on("websocket", lambda ws: self.websockets.append(ws.url))

    def _request(self, request) -> None:
        url = request.url
        if "/socket.io/" in url and "transport=polling" in url and "sid=" not in url:
            self.handshakes.append(url)
        if "/notifications/badge" in url:
            self.badge_requests.append(url)

    def clear(self) -> None:
        self.handshakes.clear()
        self.websockets.clear()
        self.badge_requests.clear()


def _deliver(app) -> None:
    """Relay the outbox and run every job it causes, in this process (as the worker would)."""
    from tests.support.notification_support import deliver_all

    with app.app_context():
        try:
            deliver_all(app)
        finally:
            db.session.remove()


def _unread(app, user_id) -> int:
    from app.notifications import center

    with app.app_context():
        try:
            return center.unread_count(user_id)
        finally:
            db.session.remove()


def _business_cancels(app, world) -> None:
    from app.booking.models import Booking
    from app.booking.service import Actor, transition
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(world.biz.tenant_id):
        try:
            booking = db.session.scalar(sa.select(Booking).where(Booking.id == world.booking_id))
            transition(booking, "cancel", Actor("staff"), "Closed for the day")
            db.session.commit()
        finally:
            db.session.remove()


def _wait_connected(page, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate("() => Boolean(window.plazaSocket && window.plazaSocket.connected)"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page's socket never connected")


def test_bell_badge_goes_up_live_over_the_one_shared_socket(app, world, server, mailbox, new_page):
    apex = server.url()
    _deliver(app)  # the booking's own confirmation is in the center before the page opens
    before = _unread(app, world.customer_user_id)
    assert before >= 1

    # Anonymous pages load no Socket.IO client and open no socket.
    anon = new_page()
    anon_log = SocketLog(anon)
    anon.goto(f"{apex}/login")
    anon.wait_for_load_state("load")
    assert anon.evaluate("() => typeof window.io") == "undefined"
    assert anon.evaluate("() => window.plazaSocket === undefined")
    assert anon_log.handshakes == [] and anon_log.websockets == []

    customer = _logged_in_page(new_page, app, world.customer_email, apex)
    traffic = SocketLog(customer)
    customer.goto(f"{apex}/account/bookings")
    badge = customer.locator("#notif-badge .notif-count")
    expect(badge).to_have_text(f"{before} unread")
    expect(customer.locator("#notif-badge[data-live='on']")).to_have_count(1)
    _wait_connected(customer)

    # The business cancels; the worker's jobs fan it out; the open page hears it.
    _business_cancels(app, world)
    _deliver(app)
    assert _unread(app, world.customer_user_id) == before + 1
    expect(badge).to_have_text(f"{before + 1} unread")
    expect(customer.locator(".notif-toast")).to_contain_text("cancel", ignore_case=True)
    assert customer.evaluate("() => performance.getEntriesByType('navigation').length") == 1  # no reload
    assert traffic.badge_requests == []  # set from the socket's payload, not by the poll

    # Exactly one Socket.IO connection on the page (a WebSocket, if any, upgrades that one).
    assert len(traffic.handshakes) == 1, traffic.handshakes
    sid = customer.evaluate("() => window.plazaSocket.io.engine.id")
    assert all(f"sid={sid}" in url for url in traffic.websockets), (sid, traffic.websockets)

    # On a conversation page the chat and the bell share that one socket too.
    traffic.clear()
    customer.goto(f"{apex}/account/messages/{world.biz.tenant_id}/{world.booking_id}")
    customer.wait_for_selector("#chat[data-live='on']")
    expect(customer.locator("#notif-badge[data-live='on']")).to_have_count(1)
    assert customer.evaluate("() => window.plazaChatSocket === window.plazaSocket")
    customer.wait_for_timeout(500)
    assert len(traffic.handshakes) == 1, traffic.handshakes
    assert not [p for p in customer.problems if "Content Security Policy" in p or "Refused" in p], customer.problems


PUSH_STUB = """
(() => {
  /* No push service is reachable from this browser: PushManager hands out a fixed subscription. */
  const KEY = "test-push-subscription";
  const fake = (endpoint) => ({
    endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true },
    toJSON() { return { endpoint, expirationTime: null,
                        keys: { p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                                auth: "tBHItJI5svbpez7KI4CCXg" } }; },
    unsubscribe() { localStorage.removeItem(KEY); return Promise.resolve(true); },
  });
  PushManager.prototype.getSubscription = function () {
    const endpoint = localStorage.getItem(KEY);
    return Promise.resolve(endpoint ? fake(endpoint) : null);
  };
  PushManager.prototype.subscribe = function (options) {
    if (!options || !(options.applicationServerKey instanceof Uint8Array) || options.applicationServerKey.length !== 65) {
      return Promise.reject(new Error("bad applicationServerKey"));
    }
    localStorage.setItem(KEY, "https://push.example.test/send/first-device");
    return Promise.resolve(fake(localStorage.getItem(KEY)));
  };
})();
"""

SW_RESUBSCRIBE = """
() => {
  /* The push service rotates the subscription: the worker's pushsubscriptionchange runs. */
  PushManager.prototype.subscribe = function (options) {
    const endpoint = "https://push.example.test/send/rotated";
    return Promise.resolve({ endpoint, toJSON() { return { endpoint, expirationTime: null,
      keys: { p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
              auth: "rotatedAuthSecret0000A" } }; } });
  };
  const event = new Event("pushsubscriptionchange");
  Object.defineProperty(event, "oldSubscription",
                        { value: { endpoint: "https://push.example.test/send/first-device", options: {} } });
  self.dispatchEvent(event);
  return true;
}
"""


def _subscriptions(app, user_id) -> dict[str, bool]:
    """``endpoint -> active`` for the person's stored push subscriptions."""
    from app.notifications.center_models import PushSubscription

    with app.app_context():
        try:
            rows = db.session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user_id))
            return {r.endpoint: r.disabled_at is None for r in rows}
        finally:
            db.session.remove()


def _wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met")


def test_turn_on_push_stores_the_subscription_and_the_worker_renews_it(app, world, server, new_page):
    apex = server.url()
    page = _logged_in_page(new_page, app, world.customer_email, apex)
    page.context.grant_permissions(["notifications"], origin=apex)
    page.add_init_script(PUSH_STUB)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" and
            r.url.endswith("/notifications/push/subscribe") else None)

    page.goto(f"{apex}/notifications/preferences")
    button = page.locator("#push-enable")
    expect(button).to_be_visible()
    assert _subscriptions(app, world.customer_user_id) == {}
    button.click()
    expect(page.locator("#push-status")).to_have_text("Push is on for this device.")
    expect(button).to_be_hidden()
    assert _subscriptions(app, world.customer_user_id) == {"https://push.example.test/send/first-device": True}
    assert len(posted) == 1 and "tBHItJI5svbpez7KI4CCXg" in posted[0]

    # A second visit finds the subscription and offers no button.
    page.reload()
    expect(page.locator("#push-status")).to_have_text("Push is on for this device.")
    expect(button).to_be_hidden()

    # The push service replaces the subscription: the service worker stores the new one.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    workers = page.context.service_workers or [page.context.wait_for_event("serviceworker")]
    worker = next(w for w in workers if re.search(r"/sw\.js$", w.url))
    assert worker.evaluate(SW_RESUBSCRIBE)
    expected = {"https://push.example.test/send/first-device": False,
                "https://push.example.test/send/rotated": True}
    _wait_for(lambda: _subscriptions(app, world.customer_user_id) == expected)
    assert page.problems == [], page.problems
