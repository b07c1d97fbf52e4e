"""Channels against local servers: Web Push (VAPID, aes128gcm) to a local push endpoint,
SMS through the Twilio adapter to a local server speaking Twilio's API (and the logging
default), email over SMTP; each delivery logged with status, attempts and errors, and
retried by RQ."""

from __future__ import annotations

import base64
import json
import os
import uuid

import http_ece
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from app.delivery.sms import LoggingSmsProvider, TwilioSmsProvider, get_provider
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import QUEUE_NAME
from app.notifications import dispatch, preferences, sending
from app.notifications.center_models import PushSubscription
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs, subject_of
from tests.support.notification_support import ALICE_EMAIL, alice, deliveries_of, local_http

pytestmark = pytest.mark.integration


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))




@pytest.fixture
def settings(app):
    """Set app config values for one test, restored afterwards."""
    saved: dict[str, object] = {}

    def put(**values: object) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield put
    for key, value in saved.items():
        app.config[key] = value


@pytest.fixture
def vapid(settings):
    """Fresh VAPID keys in the app config; yields the public key (base64url, uncompressed point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    settings(VAPID_PRIVATE_KEY=b64u(key.private_numbers().private_value.to_bytes(32, "big")),
             VAPID_PUBLIC_KEY=b64u(public), VAPID_SUBJECT="mailto:ops@plaza.example")
    return b64u(public)


def browser_keys() -> tuple[ec.EllipticCurvePrivateKey, str, bytes, str]:
    """What a browser makes when subscribing: its ECDH key pair and the auth secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    p256dh = b64u(key.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint))
    auth = os.urandom(16)
    return key, p256dh, auth, b64u(auth)


@pytest.fixture
def loopback_push(monkeypatch):
    """The local push service listens on 127.0.0.1, an address the endpoint check refuses
    before every send (tested in ``test_app_isolation``): these delivery tests trust that
    one address, and only it."""
    from app.notifications.channels import push

    real = push.address_refusal
    monkeypatch.setattr(push, "address_refusal", lambda address: None if address == "127.0.0.1" else real(address))


def notify_login(user_id: uuid.UUID) -> None:
    """A security notice (in-app, email, push by default), committed."""
    dispatch.notify_now(user_id=user_id, type_key="new_login_unknown_device", audience="user",
                      context={"device": "Firefox on Linux", "ip": "192.0.2.7", "when": "today 10:00"},
                      subject_key="login", source_key=f"login:{uuid.uuid4()}")
    db.session.commit()


def test_web_push_reaches_the_push_service_encrypted_and_signed(ctx, client, mailbox, vapid, loopback_push):
    alice_id = alice()
    login_as(client, ALICE_EMAIL)
    page = client.get("/notifications/preferences")
    assert vapid.encode() in page.data  # the page hands the VAPID key to the browser
    key_info = client.get("/notifications/push/key").json
    assert key_info["key"] == vapid
    token = key_info["csrf"]  # what the service worker uses to renew a subscription
    browser_key, p256dh, auth_raw, auth = browser_keys()
    with local_http() as push_service:
        endpoint = f"{push_service.url}/push/v1/abc123"
        resp = client.post("/notifications/push/subscribe", json={"endpoint": endpoint,
                                                                 "keys": {"p256dh": p256dh, "auth": auth}},
                           headers={"X-CSRFToken": token})
        assert resp.status_code == 201
        notify_login(alice_id)
        assert run_jobs(ctx) == []
        [req] = push_service.requests

    assert req.path == "/push/v1/abc123"
    assert req.headers["content-encoding"] == "aes128gcm" and int(req.headers["ttl"]) > 0
    scheme, _, params = req.headers["authorization"].partition(" ")
    fields = dict(p.split("=", 1) for p in params.split(","))
    assert scheme == "vapid" and fields["k"] == vapid
    claims = json.loads(b64u_decode(fields["t"].split(".")[1]))
    assert claims["aud"] == push_service.url and claims["sub"] == "mailto:ops@plaza.example"
    # Only the browser's private key and auth secret open the message.
    payload = json.loads(http_ece.decrypt(req.body, private_key=browser_key, auth_secret=auth_raw,
                                          version="aes128gcm"))
    assert payload["title"] == "New sign-in to your account" and "Firefox on Linux" in payload["body"]
    push_log = deliveries_of(alice_id, "push")
    assert [(d.status, d.provider_id) for d in push_log] == [("sent", "1 of 1 devices")]
    assert mailbox.to(ALICE_EMAIL, "New sign-in")  # the same notice also went by email


def test_a_gone_push_subscription_is_disabled(ctx, mailbox, vapid, loopback_push):
    alice_id = alice()
    _, p256dh, _, auth = browser_keys()
    with local_http() as push_service:
        push_service.respond = lambda req: (410, {"reason": "unsubscribed"})
        db.session.add(PushSubscription(user_id=alice_id, endpoint=f"{push_service.url}/gone", p256dh=p256dh,
                                        auth=auth))
        db.session.commit()
        notify_login(alice_id)
        assert run_jobs(ctx) == []
        assert len(push_service.requests) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(PushSubscription.disabled_at)) is not None
    assert [d.provider_id for d in deliveries_of(alice_id, "push")] == ["0 of 1 devices"]


def test_push_subscription_must_be_complete_and_https_outside_tests(ctx, client):
    from app.notifications.channels.push import InvalidSubscription, validate_subscription

    alice()
    login_as(client, ALICE_EMAIL)
    token = csrf_from(client.get("/notifications/preferences").data)
    bad = client.post("/notifications/push/subscribe", json={"endpoint": "https://push.example/x"},
                      headers={"X-CSRFToken": token})
    assert bad.status_code == 422
    with pytest.raises(InvalidSubscription):
        validate_subscription({"endpoint": "http://10.0.0.1/x", "keys": {"p256dh": "a", "auth": "b"}})
    assert client.post("/notifications/push/subscribe", json={}).status_code == 400  # no CSRF token


def _twilio(settings, base: str) -> None:
    settings(SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="secret",
             TWILIO_FROM="+4570000000", TWILIO_API_BASE=base)


def test_sms_through_twilio_api_with_retry_and_log(ctx, settings):
    alice_id = alice(phone="+4512345678")
    preferences.set_preference(alice_id, "account_email_verified", "sms", True)
    db.session.commit()
    answers = iter([(500, {"code": 20500, "message": "Internal Server Error"}),
                    (201, {"sid": "SM0123456789", "status": "queued"})])
    with local_http() as twilio:
        twilio.respond = lambda req: next(answers)
        _twilio(settings, twilio.url)
        dispatch.notify_now(user_id=alice_id, type_key="account_email_verified", audience="user",
                          context={"email": ALICE_EMAIL}, source_key="verified")
        db.session.commit()
        errors = run_jobs(ctx)
        assert len(errors) == 1 and "DeliveryFailed" in errors[0]
        [failed] = deliveries_of(alice_id, "sms")
        assert (failed.status, failed.attempts) == ("failed", 1) and "Twilio 500" in failed.error
        # RQ keeps the job for a retry with backoff.
        conn = Redis.from_url(ctx.config["REDIS_URL"])
        [job_id] = ScheduledJobRegistry(queue=Queue(QUEUE_NAME, connection=conn)).get_job_ids()
        assert sending.deliver_now(failed.id) == "sent"  # the retry
        assert len(twilio.requests) == 2
    req = twilio.requests[-1]
    assert req.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert req.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:secret").decode()
    form = dict(pair.split("=", 1) for pair in req.body.decode().split("&"))
    assert form["To"] == "%2B4512345678" and form["From"] == "%2B4570000000" and "Email+address+verified" in form["Body"]
    [sms] = deliveries_of(alice_id, "sms")
    assert (sms.status, sms.attempts, sms.provider_id, sms.error) == ("sent", 2, "SM0123456789", None)
    assert [e["status"] for e in sms.log] == ["queued", "sending", "failed", "sending", "sent"]
    assert sending.deliver_now(sms.id) == "already_sent"  # a late duplicate job sends nothing


def test_sms_defaults_to_the_logging_provider_and_needs_a_phone_number(ctx, settings):
    settings(SMS_PROVIDER=None)
    assert isinstance(get_provider(), LoggingSmsProvider)
    _twilio(settings, "http://127.0.0.1:9")
    assert isinstance(get_provider(), TwilioSmsProvider)
    settings(SMS_PROVIDER="log")
    alice_id = alice()  # no phone
    preferences.set_preference(alice_id, "account_email_verified", "sms", True)
    dispatch.notify_now(user_id=alice_id, type_key="account_email_verified", audience="user",
                      context={"email": ALICE_EMAIL}, source_key="verified")
    db.session.commit()
    assert run_jobs(ctx) == []
    [sms] = deliveries_of(alice_id, "sms")
    assert (sms.status, sms.error) == ("skipped", "no phone number")
    user = db.session.get(User, alice_id)
    user.phone = "+4512345678"
    dispatch.notify_now(user_id=alice_id, type_key="account_email_verified", audience="user",
                      context={"email": ALICE_EMAIL}, source_key="verified-again", subject_key="x")
    db.session.commit()
    assert run_jobs(ctx) == []
    assert [d.status for d in deliveries_of(alice_id, "sms")] == ["skipped", "sent"]


def test_email_failure_is_logged_and_retried(ctx, mailbox, settings):
    alice_id = alice()
    settings(SMTP_URL="smtp://127.0.0.1:9")  # nothing listens there
    dispatch.notify_now(user_id=alice_id, type_key="password_changed", audience="user", context={"when": "today"},
                      source_key="pw")
    db.session.commit()
    errors = run_jobs(ctx)
    assert len(errors) == 1
    [email] = deliveries_of(alice_id, "email")
    assert email.status == "failed" and "Connection refused" in email.error
    settings(SMTP_URL=mailbox.url)
    assert sending.deliver_now(email.id) == "sent"
    [msg] = mailbox.to(ALICE_EMAIL)
    assert subject_of(msg) == "Your password was changed" and msg["List-Unsubscribe"] is None
    assert "notifications/preferences" in msg.get_body(("plain",)).get_content()


def test_account_notices_new_device_password_and_verification(ctx, mailbox):
    from app.notifications import account

    alice_id = alice()
    user = db.session.get(User, alice_id)
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    laptop, sent = account.notify_login(user, None, device=firefox, ip="192.0.2.1")
    db.session.commit()
    assert not sent  # the first sign-in ever tells nobody
    assert account.notify_login(user, laptop, device=firefox, ip="192.0.2.1")[1] is False
    phone, sent = account.notify_login(user, None, device=iphone, ip="198.51.100.4")
    db.session.commit()
    assert sent and phone != laptop
    account.notify_password_changed(user)
    account.notify_email_verified(user)
    account.notify_email_verified(user)  # the same verification twice notifies once
    db.session.commit()
    assert run_jobs(ctx) == []
    [login] = mailbox.to(ALICE_EMAIL, "New sign-in")
    assert "Mobile Safari on iPhone" in login.get_body(("plain",)).get_content()  # not the raw user agent
    [changed] = mailbox.to(ALICE_EMAIL, "Your password was changed")
    # Links in an email are absolute and built from configuration (never a bare path).
    from app.tenants.urls import platform_url

    text = changed.get_body(("plain",)).get_content()
    assert platform_url("/password/forgot") in text and platform_url("/password/forgot").startswith("http")
    assert platform_url("/notifications/") in login.get_body(("plain",)).get_content()
    from app.notifications.channels.sms import sms_text
    from tests.support.notification_support import notifications_of

    assert sms_text(notifications_of(alice_id)[1]).endswith(" " + platform_url("/password/forgot"))

    assert [n.type for n in notifications_of(alice_id)] == [
        "new_login_unknown_device", "password_changed", "account_email_verified"]


def test_vapid_keys_command_makes_a_working_pair(app):
    from py_vapid import Vapid

    out = app.test_cli_runner().invoke(args=["notifications", "vapid-keys"]).output
    env = dict(line.split("=", 1) for line in out.strip().splitlines())
    vapid = Vapid.from_string(env["VAPID_PRIVATE_KEY"])
    public = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert b64u(public) == env["VAPID_PUBLIC_KEY"]


def test_service_worker_is_served_for_the_whole_site(client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in resp.data and b"showNotification" in resp.data
    manifest = client.get("/manifest.webmanifest").get_data(as_text=True)
    assert json.loads(manifest)["icons"][0]["src"].startswith("/static/icons/icon-192.png")
    assert client.get("/static/icons/icon-512.png").status_code == 200
