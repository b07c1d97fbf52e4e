"""Preferences change what arrives; marketing needs recorded consent and carries a
one-click unsubscribe link (RFC 8058) that works without logging in."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.notifications import audiences, dispatch, preferences
from app.notifications.center_models import MarketingConsent
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs, subject_of, text_of
from tests.support.notification_support import (
    ALICE_EMAIL,
    alice,
    bella,
    book,
    day_at,
    deliver_all,
    deliveries_of,
    notifications_of,
)

pytestmark = pytest.mark.integration


def announce(user_id: uuid.UUID, tenant_id: uuid.UUID | None = None) -> None:
    dispatch.notify_now(user_id=user_id, type_key="business_announcement", audience="customer", tenant_id=tenant_id,
                      context={"business": "Bella Hair Studio", "headline": "Winter offer",
                               "message": "20% off colouring."}, source_key=f"news:{uuid.uuid4()}")
    db.session.commit()


def test_preferences_page_turns_booking_email_off_and_security_email_stays_on(ctx, client, mailbox):
    biz = bella()
    alice_id = alice()
    login_as(client, ALICE_EMAIL)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'name="booking_confirmed:email" aria-label="Booking confirmed by Email" checked' in html
    assert re.search(r'name="password_changed:email"[^>]*checked disabled', html)
    # Untick everything except in-app for confirmations; the form posts only ticked boxes.
    resp = client.post("/notifications/preferences", data={"csrf_token": csrf_from(page.data),
                                                           "booking_confirmed:inapp": "on"})
    assert resp.status_code == 302
    assert preferences.enabled_channels(alice_id, "booking_confirmed", "customer") == ["inapp"]
    assert preferences.enabled_channels(alice_id, "password_changed", "user") == ["email"]  # locked

    book(biz, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)
    assert mailbox.to(ALICE_EMAIL) == []  # the booking email respects the choice
    assert [n.type for n in notifications_of(alice_id)] == ["booking_confirmed"]
    assert [d.channel for d in deliveries_of(alice_id)] == ["inapp"]

    dispatch.notify_now(user_id=alice_id, type_key="password_changed", audience="user", context={"when": "now"},
                      source_key="pw")
    db.session.commit()
    assert run_jobs(ctx) == []
    assert len(mailbox.to(ALICE_EMAIL, "Your password was changed")) == 1


def test_in_app_off_keeps_the_badge_quiet_but_logs_it(ctx):
    alice_id = alice()
    preferences.set_preference(alice_id, "account_email_verified", "inapp", False)
    dispatch.notify_now(user_id=alice_id, type_key="account_email_verified", audience="user",
                      context={"email": ALICE_EMAIL}, source_key="v")
    db.session.commit()
    [n] = notifications_of(alice_id)
    assert n.archived_at is not None and deliveries_of(alice_id) == []


def test_marketing_needs_consent_and_unsubscribes_in_one_click(ctx, client, mailbox):
    biz = bella()
    alice_id = alice()
    announce(alice_id, biz.tenant_id)
    assert run_jobs(ctx) == []
    assert mailbox.to(ALICE_EMAIL) == []
    assert [(d.status, d.error) for d in deliveries_of(alice_id, "email")] == [("skipped", "no marketing consent")]

    # Consent is recorded with when, how and where.
    login_as(client, ALICE_EMAIL)
    page = client.get("/notifications/preferences")
    form = {"csrf_token": csrf_from(page.data), "marketing": "1", "business_announcement:email": "on",
            "business_announcement:inapp": "on"}
    client.post("/notifications/preferences", data=form)
    [consent] = db.session.scalars(sa.select(MarketingConsent)).all()
    assert consent.user_id == alice_id and consent.withdrawn_at is None and consent.granted_at is not None
    assert consent.method == "preferences page checkbox" and "/notifications/preferences" in consent.source
    assert b"You agreed on" in client.get("/notifications/preferences").data

    announce(alice_id, biz.tenant_id)
    assert run_jobs(ctx) == []
    [msg] = mailbox.to(ALICE_EMAIL)
    assert subject_of(msg) == "Bella Hair Studio: Winter offer"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(http://localhost(?::\d+)?/notifications/unsubscribe/\S+)>", str(msg["List-Unsubscribe"]))
    assert link and link.group(1) in text_of(msg)
    path = link.group(1).split("localhost", 1)[1].split("/", 1)[1]

    # The mail client's one-click POST: no session, no CSRF token.
    anon = client.application.test_client()
    resp = anon.post("/" + path, data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200 and b"You are unsubscribed" in resp.data
    db.session.expire_all()
    assert db.session.scalar(sa.select(MarketingConsent.withdrawn_method)) == "one-click link"
    assert not preferences.has_marketing_consent(alice_id)
    announce(alice_id, biz.tenant_id)
    assert run_jobs(ctx) == []
    assert len(mailbox.to(ALICE_EMAIL)) == 1  # nothing new

    # A GET (link scanners) only shows the confirm button; a forged token is refused.
    assert b"Stop getting" in anon.get("/" + path).data
    assert anon.post("/notifications/unsubscribe/forged.token", data={}).status_code == 400


def test_consent_withdrawn_on_the_page_stops_marketing_at_send_time(ctx, mailbox):
    alice_id = alice()
    preferences.grant_consent(alice_id, method="signup checkbox", source="/signup-customer", ip="192.0.2.1")
    dispatch.notify_now(user_id=alice_id, type_key="business_announcement", audience="customer",
                      context={"business": "Bella", "headline": "Hi", "message": "News"}, source_key="n1")
    preferences.withdraw_consent(alice_id, method="preferences page checkbox")
    db.session.commit()
    assert run_jobs(ctx) == []
    assert mailbox.to(ALICE_EMAIL) == []
    assert [(d.status, d.error) for d in deliveries_of(alice_id, "email")] == [("skipped", "no marketing consent")]


def test_owner_announcement_reaches_only_consenting_customers(ctx, client, mailbox):
    from app.tenants.context import tenant_scope
    from tests.factories import make_user

    biz = bella()
    alice_id = alice()
    bob_id = make_user("bob@example.com", name="Bob")
    book(biz, day_at(3, 10), user_id=alice_id)
    book(biz, day_at(3, 12), user_id=bob_id, email="bob@example.com")
    make_user("carol@example.com")  # consents, but is not this business's customer
    preferences.grant_consent(alice_id, method="signup checkbox", source="/signup-customer")
    from app.identity.models import User

    carol = db.session.scalar(sa.select(User.id).where(User.email == "carol@example.com"))
    preferences.grant_consent(carol, method="signup checkbox", source="/signup-customer")
    db.session.commit()
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        assert audiences.announcement_audience(biz.tenant_id) == [alice_id]

    host = "bella.localhost"
    login_as(client, biz.owner_email, host)
    page = client.get("/notifications/announce", base_url=f"http://{host}")
    assert page.status_code == 200 and b"Goes to the 1 customer with a Plaza account" in page.data
    token = csrf_from(page.data)
    bad = client.post("/notifications/announce", base_url=f"http://{host}",
                      data={"csrf_token": token, "headline": "", "message": "Keep me"})
    assert bad.status_code == 422 and b"Give your announcement a headline." in bad.data and b"Keep me" in bad.data
    ok = client.post("/notifications/announce", base_url=f"http://{host}",
                     data={"csrf_token": token, "headline": "Winter offer", "message": "20% off colouring."})
    assert ok.status_code == 302
    deliver_all(ctx)
    [msg] = mailbox.to(ALICE_EMAIL, "Bella Hair Studio: Winter offer")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mailbox.to("bob@example.com", "Bella") == [] and mailbox.to("carol@example.com") == []
    assert [n.title for n in notifications_of(alice_id)][-1] == "Bella Hair Studio: Winter offer"
    # Customers cannot announce.
    other = client.application.test_client()
    login_as(other, ALICE_EMAIL, host)
    assert other.get("/notifications/announce", base_url=f"http://{host}").status_code == 404


def test_one_click_unsubscribe_works_on_a_business_host_too(ctx, client):
    """The tenant role sees only the logged-in person's account-wide consent; the signed link
    names the person, so it withdraws their consent on whichever host it is opened."""
    bella()
    alice_id = alice()
    preferences.grant_consent(alice_id, method="signup checkbox", source="/signup-customer", ip="192.0.2.1")
    db.session.commit()
    token = preferences.unsubscribe_token(alice_id, "business_announcement")
    resp = client.post(f"/notifications/unsubscribe/{token}", base_url="http://bella.localhost",
                       data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200 and b"You are unsubscribed" in resp.data
    db.session.expire_all()
    assert not preferences.has_marketing_consent(alice_id)
