# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Isolation in depth, in the application (issue 8 section 5): one chat rule for a cancelled
booking over HTTP and Socket.IO; manage links that expire after the appointment and refuse
what the booking's status does not allow; Web Push endpoints that never reach a private
address and cannot be taken over; no punycode look-alike subdomains; a customer signup that
does not tell who is registered.

No test here touches the network: push endpoints are IP literals, ``localhost`` names, or a
name answered by a stand-in resolver."""

from __future__ import annotations

import base64
import re
import socket
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.booking.models import Booking
from app.chat.models import Message
from app.extensions import db
from app.identity.models import User
from app.notifications.center_models import PushSubscription
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_from, login_as
from tests.support.chat_fixtures import ChatClient, WebProcess, session_cookie, world  # noqa: F401
from tests.support.conftest_mail import run_jobs, subject_of, text_of
from tests.support.notification_support import local_http

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def web(services):
    """One real web process (gunicorn) for the Socket.IO checks."""
    proc = WebProcess(services)
    yield proc
    proc.stop()


def _token(app, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    from app.booking.service import manage_token

    with app.app_context(), tenant_scope(tenant_id):
        try:
            return manage_token(db.session.scalar(sa.select(Booking).where(Booking.id == booking_id)))
        finally:
            db.session.remove()


def _status(app, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    with app.app_context(), tenant_scope(tenant_id):
        try:
            return db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id))
        finally:
            db.session.remove()


def _move(app, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, ended_days_ago: float | None = None,
          action: str | None = None) -> None:
    """Age the booking (it ended ``ended_days_ago`` days ago) and/or apply a staff ``action``."""
    from app.booking.service import Actor, transition

    with app.app_context(), tenant_scope(tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        if ended_days_ago is not None:
            shift = (utcnow() - timedelta(days=ended_days_ago)) - booking.ends_at
            booking.starts_at, booking.ends_at = booking.starts_at + shift, booking.ends_at + shift
            booking.blocked_from, booking.blocked_until = booking.blocked_from + shift, booking.blocked_until + shift
        if action is not None:
            transition(booking, action, Actor("staff"), "test")
        db.session.commit()
        db.session.remove()


def _messages(app, tenant_id: uuid.UUID) -> list[tuple[str, str]]:
    with app.app_context(), tenant_scope(tenant_id):
        try:
            return [(r, b) for r, b in db.session.execute(
                sa.select(Message.author_role, Message.body).order_by(Message.seq))]
        finally:
            db.session.remove()


def _csrf(client, base_url: str = BELLA) -> str:
    return csrf_from(client.get("/login", base_url=base_url).data)


def _run(coro):
    from tests.blueprints.realtime.test_chat_realtime import run

    return run(coro)


# --------------------------------------------------------------------------- 1. one chat rule


def test_a_cancelled_bookings_guest_cannot_post_over_http(app, world):
    """Socket.IO already refused them; the manage-link form now refuses the same way (409,
    the reason inline, nothing stored) while the conversation stays readable. Staff may still
    write, e.g. to explain the cancellation."""
    token = _token(app, world.biz.tenant_id, world.booking_id)
    guest = app.test_client()
    url = f"/manage/{token}/chat"
    page = guest.get(url, base_url=BELLA)
    assert guest.post(url, data={"csrf_token": csrf_from(page.data), "body": "Before"}, base_url=BELLA
                      ).status_code == 303
    _move(app, world.biz.tenant_id, world.booking_id, action="cancel")

    page = guest.get(url, base_url=BELLA)
    assert page.status_code == 200 and "Before" in page.text
    assert "conversation is closed" in page.text and 'id="chat-form"' not in page.text
    refused = guest.post(url, data={"csrf_token": _csrf(guest), "body": "After the cancellation"}, base_url=BELLA)
    assert refused.status_code == 409
    assert "This booking was cancelled, so its conversation is closed" in refused.text

    staff = app.test_client()
    login_as(staff, world.biz.owner_email, host="bella.localhost")
    staff_url = f"/dashboard/bookings/{world.booking_id}/chat"
    page = staff.get(staff_url, base_url=BELLA)
    assert staff.post(staff_url, data={"csrf_token": csrf_from(page.data), "body": "Sorry to see you go"},
                      base_url=BELLA).status_code == 303
    assert _messages(app, world.biz.tenant_id) == [("customer", "Before"), ("staff", "Sorry to see you go")]


def test_the_chat_rule_is_the_same_for_an_account_over_http_and_socket(app, world, web):
    """The customer's account (apex pages and sockets) is held to the same rule as the
    manage link: HTTP 409 with the reason, the socket's error acknowledgement; nothing stored."""
    _move(app, world.biz.tenant_id, world.booking_id, action="cancel")
    customer = app.test_client()
    login_as(customer, world.customer_email)
    url = f"/account/messages/{world.biz.tenant_id}/{world.booking_id}"
    page = customer.get(url)
    assert page.status_code == 200 and "conversation is closed" in page.text
    refused = customer.post(url, data={"csrf_token": csrf_from(page.data), "body": "http"})
    assert refused.status_code == 409 and "conversation is closed" in refused.text

    from tests.blueprints.realtime.test_chat_realtime import conversation_id_for

    cid = conversation_id_for(app, world.biz.tenant_id, world.booking_id)

    async def body():
        c = ChatClient(session_cookie(app, world.customer_email))
        try:
            await c.connect(web.url())
            joined = await c.call("join", {"conversation_id": cid, "tenant_id": str(world.biz.tenant_id)})
            assert joined["ok"]  # reading stays open
            ack = await c.call("send", {"conversation_id": cid, "body": "socket", "client_id": "x1"})
            assert ack["ok"] is False and ack["code"] == "ConversationClosed"
            assert "conversation is closed" in ack["error"]
        finally:
            await c.close()

    _run(body())
    assert _messages(app, world.biz.tenant_id) == []


# --------------------------------------------------------------------------- 2. manage links


def test_a_manage_link_expires_a_set_time_after_the_appointment(app, world):
    """``MANAGE_LINK_DAYS_AFTER`` (30) days after the booking's end, every page and form
    behind the link says it has expired (410) and changes nothing; the API refuses the token."""
    tid, bid = world.biz.tenant_id, world.booking_id
    token = _token(app, tid, bid)
    client = app.test_client()
    _move(app, tid, bid, ended_days_ago=29)
    assert client.get(f"/manage/{token}", base_url=BELLA).status_code == 200  # still within 30 days

    _move(app, tid, bid, ended_days_ago=31)
    for path in (f"/manage/{token}", f"/booked/{token}", f"/manage/{token}/chat", f"/manage/{token}/reschedule",
                 f"/pay/{token}"):
        page = client.get(path, base_url=BELLA)
        assert page.status_code == 410, path
        assert "This link has expired" in page.text and "30 days after the appointment" in page.text
    csrf = _csrf(client)
    for path, data in ((f"/manage/{token}/cancel", {"reason": ""}), (f"/manage/{token}/chat", {"body": "Hi"}),
                       (f"/manage/{token}/reschedule", {"start": "2030-01-01T10:00:00Z"}),
                       (f"/pay/{token}", {})):
        resp = client.post(path, data={"csrf_token": csrf, **data}, base_url=BELLA)
        assert resp.status_code == 410, path
    card = client.post(f"/pay/{token}/card/setup", json={}, base_url=BELLA,
                       headers={"Accept": "application/json", "X-CSRFToken": csrf})
    assert card.status_code == 410 and card.mimetype == "application/problem+json"
    assert "This link has expired" in card.json["detail"]
    assert _status(app, tid, bid) == "confirmed" and _messages(app, tid) == []
    api = client.get(f"/api/v1/bookings/{bid}?token={token}", base_url=BELLA)
    assert api.status_code == 401 and "expired" in api.json["detail"]

    app.config["MANAGE_LINK_DAYS_AFTER"] = 40
    try:
        assert client.get(f"/manage/{token}", base_url=BELLA).status_code == 200
    finally:
        app.config["MANAGE_LINK_DAYS_AFTER"] = 30


def test_manage_link_actions_the_bookings_status_does_not_allow_are_409(app, world):
    """Cancel or move a completed booking, pay for a cancelled one: a clear 409 on the
    page (or problem+json on the API), never a 500, and the status does not change."""
    tid, bid = world.biz.tenant_id, world.booking_id
    token = _token(app, tid, bid)
    client = app.test_client()
    _move(app, tid, bid, ended_days_ago=1, action="complete")
    csrf = _csrf(client)
    cancel = client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf, "reason": ""}, base_url=BELLA)
    assert cancel.status_code == 409 and "no longer active" in cancel.text
    move = client.post(f"/manage/{token}/reschedule", data={"csrf_token": csrf, "start": "2030-01-01T10:00:00Z"},
                       base_url=BELLA)
    assert move.status_code == 409 and "no longer active" in move.text
    api = client.post(f"/api/v1/bookings/{bid}/cancel?token={token}", json={}, base_url=BELLA)
    assert api.status_code == 409
    assert _status(app, tid, bid) == "completed"

    from tests.support.chat_fixtures import make_booking

    with app.app_context():
        other_id, _ = make_booking(tid, "olga@example.test", hour=13, name="Olga")
        db.session.remove()
    other = _token(app, tid, other_id)
    _move(app, tid, other_id, action="cancel")
    app.config["STRIPE_TEST_PAYMENTS"] = "1"
    try:
        pay = client.post(f"/pay/{other}", data={"csrf_token": csrf}, base_url=BELLA)
    finally:
        app.config.pop("STRIPE_TEST_PAYMENTS", None)
    assert pay.status_code == 409 and "This booking is cancelled, so there is nothing to pay" in pay.text
    assert _status(app, tid, other_id) == "cancelled"


def test_guest_sockets_refuse_an_expired_manage_link(app, world, web):
    tid, bid = world.biz.tenant_id, world.booking_id
    token = _token(app, tid, bid)
    host = web.url("bella.localhost")

    async def connect() -> bool:
        c = ChatClient()
        try:
            await c.sio.connect(host, headers=c.headers, auth={"manage_token": token}, transports=["websocket"],
                                wait_timeout=5)
            return True
        except Exception:  # noqa: BLE001 - socketio's ConnectionError: refused
            return False
        finally:
            await c.close()

    assert _run(connect())
    _move(app, tid, bid, ended_days_ago=31)
    assert not _run(connect())


# --------------------------------------------------------------------------- 3. web push


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _browser_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    p256dh = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": _b64u(p256dh), "auth": _b64u(uuid.uuid4().bytes)}


def _subscribe(client, endpoint: str, keys: dict[str, str] | None = None):
    csrf = client.get("/notifications/push/key").json["csrf"]
    return client.post("/notifications/push/subscribe", json={"endpoint": endpoint, "keys": keys or _browser_keys()},
                       headers={"X-CSRFToken": csrf})


def _subscriptions() -> list[tuple[str, uuid.UUID, str, bool]]:
    db.session.expire_all()
    return [(s.endpoint, s.user_id, s.p256dh, s.disabled_at is None)
            for s in db.session.scalars(sa.select(PushSubscription).order_by(PushSubscription.created_at))]


@pytest.mark.parametrize("endpoint", [
    "https://127.0.0.1/push/1", "https://127.9.9.9:8443/push", "https://[::1]/push", "https://10.1.2.3/push",
    "https://172.16.0.1/push", "https://192.168.1.10/push", "https://169.254.169.254/latest/meta-data",
    "https://[fe80::1]/push", "https://224.0.0.1/push", "https://[ff02::1]/push", "https://0.0.0.0/push",
    "https://[::]/push", "https://240.0.0.1/push", "https://[::ffff:127.0.0.1]/push", "https://[2002:7f00:1::]/push",
    "https://[fc00::1]/push", "https://100.64.0.1/push", "https://localhost/push", "https://push.localhost/push",
])
def test_push_subscriptions_to_non_public_addresses_are_refused(ctx, client, endpoint):
    make_user("alice@example.com")
    login_as(client, "alice@example.com")
    resp = _subscribe(client, endpoint)
    assert resp.status_code == 422 and resp.json["error"]
    assert _subscriptions() == []


def test_a_push_endpoint_that_resolves_to_a_private_address_is_refused(app, monkeypatch):
    """ANY private address among a name's answers refuses it (a stand-in resolver answers:
    no DNS query leaves the machine); http only where allowed."""
    from app.notifications.channels.push import endpoint_refusal

    answers = {"push.example.test": ["93.184.216.34", "10.0.0.7"], "fcm.example.test": ["8.8.4.4"],
               "v6.example.test": ["2001:4860:4860::8888", "::1"]}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "no such host")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert "10.0.0.7 is a private address" in endpoint_refusal("https://push.example.test/x")
    assert "::1 is a loopback address" in endpoint_refusal("https://v6.example.test/x")
    assert endpoint_refusal("https://nowhere.example.test/x") == "nowhere.example.test could not be resolved"
    assert endpoint_refusal("https://fcm.example.test/send/abc") is None
    assert "https://" in endpoint_refusal("http://fcm.example.test/send/abc")
    assert endpoint_refusal("http://fcm.example.test/send/abc", allow_insecure=True) is None


def _vapid(app) -> dict[str, object]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    values = {"VAPID_PRIVATE_KEY": _b64u(key.private_numbers().private_value.to_bytes(32, "big")),
              "VAPID_PUBLIC_KEY": _b64u(public), "VAPID_SUBJECT": "mailto:ops@plaza.example"}
    saved = {k: app.config.get(k) for k in values}
    app.config.update(values)
    return saved


def test_push_to_a_private_address_is_refused_at_send_time_and_logged(app, ctx, mailbox):
    """A subscription saved before the check (or by another path) pointing at loopback: the
    push service there receives nothing, and the delivery log says why."""
    from app.notifications import dispatch
    from tests.support.notification_support import deliveries_of

    alice_id = make_user("alice@example.com")
    saved = _vapid(app)
    try:
        with local_http() as push_service:
            for endpoint in (f"{push_service.url}/push/v1/loop",
                             push_service.url.replace("127.0.0.1", "localhost") + "/push/v1/name"):
                db.session.add(PushSubscription(user_id=alice_id, endpoint=endpoint, **_browser_keys()))
            db.session.commit()
            dispatch.notify_now(user_id=alice_id, type_key="new_login_unknown_device", audience="user",
                              context={"device": "Firefox", "ip": "192.0.2.7", "when": "today"},
                              subject_key="login", source_key=f"login:{uuid.uuid4()}")
            db.session.commit()
            errors = run_jobs(app)
            assert push_service.requests == []
    finally:
        app.config.update(saved)
    assert errors and "PushEndpointRefused" in errors[0]
    [log] = deliveries_of(alice_id, "push")
    assert log.status == "failed"
    assert "127.0.0.1 is a loopback address" in log.error and "localhost is a local name" in log.error


def test_saving_a_push_subscription_cannot_take_over_another_persons_endpoint(ctx, app):
    alice_id, bob_id = make_user("alice@example.com"), make_user("bob@example.com")
    alice, bob = app.test_client(), app.test_client()
    login_as(alice, "alice@example.com")
    login_as(bob, "bob@example.com")
    endpoint = "https://push.example.test/send/alices-phone"
    alice_keys, bob_keys = _browser_keys(), _browser_keys()
    assert _subscribe(alice, endpoint, alice_keys).status_code == 201
    taken = _subscribe(bob, endpoint, bob_keys)
    assert taken.status_code == 409 and "another Plaza account" in taken.json["error"]
    assert _subscriptions() == [(endpoint, alice_id, alice_keys["p256dh"], True)]  # still Alice's, her keys
    renewed = _browser_keys()
    assert _subscribe(alice, endpoint, renewed).status_code == 201  # her own renewal still works
    assert _subscriptions() == [(endpoint, alice_id, renewed["p256dh"], True)]
    # once Alice turned it off, the browser's endpoint may serve whoever subscribes next
    csrf = alice.get("/notifications/push/key").json["csrf"]
    assert alice.post("/notifications/push/unsubscribe", json={"endpoint": endpoint},
                      headers={"X-CSRFToken": csrf}).json == {"removed": 1}
    assert _subscribe(bob, endpoint, bob_keys).status_code == 201
    assert _subscriptions() == [(endpoint, bob_id, bob_keys["p256dh"], True)]


# --------------------------------------------------------------------------- 4. slugs


@pytest.mark.parametrize("slug", ["xn--bla-jpa", "xn--80ak6aa92e", "ab--salon", "xn--p1ai"])
def test_punycode_and_idna_reserved_subdomains_are_refused(app, client, slug):
    from tests.blueprints.site.test_signup import counts, post_signup

    resp = post_signup(client, slug=slug)
    assert resp.status_code == 422
    assert "cannot have “--” as its 3rd and 4th characters" in resp.get_data(as_text=True)
    assert counts(app) == (0, 0, 0)
    assert post_signup(client, slug="nordic--nails").status_code == 302  # "--" elsewhere is fine


# --------------------------------------------------------------------------- 5. signup


def _signup(client, email: str, password: str = "a-new-long-password"):
    page = client.get("/signup-customer")
    return client.post("/signup-customer", data={"name": "Someone", "email": email, "password": password,
                                                 "csrf_token": csrf_from(page.data)})


def _answer(resp, email: str) -> tuple[int, str]:
    """Status and the visible answer of the page, with the typed email made neutral."""
    m = re.search(r'<section class="card narrow auth-card">(.*?)</section>', resp.get_data(as_text=True), re.S)
    assert m
    return resp.status_code, m.group(1).replace(email, "EMAIL")


def test_customer_signup_does_not_reveal_whether_an_email_is_registered(app, mailbox):
    with app.app_context():
        ann_id = make_user("ann@example.com", name="Ann")
        db.session.remove()
    known, new = app.test_client(), app.test_client()
    known_resp, new_resp = _signup(known, "ann@example.com"), _signup(new, "cleo@example.com")
    assert _answer(known_resp, "ann@example.com") == _answer(new_resp, "cleo@example.com")
    assert known_resp.status_code == 200 and "Check your email" in known_resp.get_data(as_text=True)
    assert "already exists" not in known_resp.get_data(as_text=True)
    with app.app_context():
        assert run_jobs(app) == []

    # The owner of the registered address is told instead; nothing about the account changed.
    [warning] = mailbox.to("ann@example.com")
    assert subject_of(warning) == "Someone tried to create a Plaza account with your email address"
    with app.app_context():
        from app.tenants.urls import platform_url

        login, forgot = platform_url("/login"), platform_url("/password/forgot")
    assert login.startswith("http://localhost") and login in text_of(warning) and forgot in text_of(warning)
    with app.app_context():
        from app.identity.service import authenticate

        assert authenticate("ann@example.com", PASSWORD).id == ann_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
        db.session.remove()

    # The new address gets its confirmation link; the flow goes on to a confirmed login.
    [confirm] = mailbox.to("cleo@example.com")
    assert subject_of(confirm) == "Confirm your email address for Plaza"
    link = re.search(r"https?://[^/\s]+(/verify-email/\S+)", text_of(confirm)).group(1)
    page = new.get(link)
    assert page.status_code == 200 and "Email confirmed" in page.get_data(as_text=True)
    csrf = csrf_from(new.get("/login").data)
    login = new.post("/login", data={"email": "cleo@example.com", "password": "a-new-long-password",
                                     "csrf_token": csrf})
    assert login.status_code == 302
    assert new.get("/account/bookings").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at).where(User.email == "cleo@example.com"))
        db.session.remove()


def test_business_signup_does_not_say_an_email_has_an_account_without_its_password(app, client):
    from tests.blueprints.site.test_signup import counts, post_signup

    with app.app_context():
        make_user("nina@example.com")
        db.session.remove()
    resp = post_signup(client, password="not-her-password")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "We could not sign you up with this email and password" in text
    assert "already has" not in text and "already exists" not in text and "suspended" not in text
    assert counts(app) == (0, 1, 0)
