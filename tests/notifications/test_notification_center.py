"""Notification center and fan-out from the booking outbox: the right people hear about a
booking once, repeats fold, the center's tabs and actions work, and nobody reads another
person's notifications."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import Actor, cancel_by_customer, reschedule_booking, transition
from app.extensions import db
from app.identity.models import User
from app.notifications import center
from app.notifications.center_models import Notification
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_user
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import calendar_of, subject_of
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


def owner_id(biz) -> uuid.UUID:
    return db.session.scalar(sa.select(User.id).where(User.email == biz.owner_email))


def test_booking_notifies_customer_account_and_owner_once(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    book(biz, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)

    [mine] = notifications_of(alice_id)
    assert (mine.type, mine.title, mine.tenant_id) == ("booking_confirmed", "Booking confirmed", biz.tenant_id)
    assert "Haircut at Bella Hair Studio" in mine.body and "/manage/" in mine.url
    [theirs] = notifications_of(owner_id(biz))
    assert theirs.title == "New booking" and "Alice Andersen booked Haircut with Staff 1" in theirs.body
    # Alice's email is the booking email (with its .ics), exactly once, through her notification.
    [email] = mailbox.to(ALICE_EMAIL)
    assert subject_of(email).startswith("Booking confirmed: Haircut on ")
    assert calendar_of(email)["METHOD"] == "REQUEST"
    # Delivery log: in-app sent; push skipped (no device); the email sent (one table, one path).
    assert {(d.channel, d.status, d.error) for d in deliveries_of(alice_id)} == {
        ("inapp", "sent", None), ("push", "skipped", "no push subscription"), ("email", "sent", None)}

    # The same event relayed again after a crash notifies nobody twice.
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.text("update outbox_event set relayed_at = null"))
        db.session.commit()
    deliver_all(ctx)
    assert len(notifications_of(alice_id)) == 1 and len(notifications_of(owner_id(biz))) == 1
    assert len(mailbox.to(ALICE_EMAIL)) == 1


def test_a_guest_gets_only_email_and_the_lifecycle_reaches_the_right_people(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    guest_booking = book(biz, day_at(2, 9), email="guest@example.com")
    booking_id = book(biz, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)
    assert mailbox.to("guest@example.com")  # the guest's booking email
    # The guest has no account (no center); the owner hears about both bookings separately.
    assert [n.subject_key for n in notifications_of(owner_id(biz))] == [f"booking:{guest_booking}",
                                                                       f"booking:{booking_id}"]

    tenant = db.session.get(Tenant, biz.tenant_id)
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        reschedule_booking(tenant, b, day_at(4, 14), Actor("staff"))
        db.session.commit()
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        cancel_by_customer(tenant, b, "ill")
        db.session.commit()
    deliver_all(ctx)

    # Different types about the same booking stay separate notifications.
    assert [n.type for n in notifications_of(alice_id)] == [
        "booking_confirmed", "booking_rescheduled", "booking_cancelled_by_customer"]
    moved = notifications_of(alice_id)[1]
    assert "(was " in moved.body
    owner_types = [n.type for n in notifications_of(owner_id(biz))]
    assert owner_types.count("booking_cancelled_by_customer") == 1
    assert "booking_rescheduled" in owner_types


def test_completed_booking_asks_for_a_review_by_email(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    start = day_at(3, 10)
    booking_id = book(biz, start, user_id=alice_id)
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(b, "complete", Actor("staff"), now=start + timedelta(hours=1))
        db.session.commit()
    deliver_all(ctx)
    types = [n.type for n in notifications_of(alice_id)]
    assert types == ["booking_confirmed", "booking_completed", "review_requested"]
    [review] = mailbox.to(ALICE_EMAIL, "How was Haircut?")
    assert review["List-Unsubscribe"] is None  # transactional: no unsubscribe header
    # The confirmation and the thank-you (with the review page's link and "book again"), once each.
    assert [(d.status, d.attempts) for d in deliveries_of(alice_id, "email")] == [("sent", 1), ("sent", 1)]
    text = review.get_body(("plain",)).get_content()
    assert "Book again: http://bella.localhost" in text and "Leave a review" in text
    assert f"http://bella.localhost:{ctx.config['PUBLIC_PORT']}/review/" in text
    [asked] = [n for n in notifications_of(alice_id) if n.type == "review_requested"]
    assert "/review/" in asked.url


def test_repeats_inside_the_dedup_window_fold_into_one(ctx):
    user_id = alice()
    now = utcnow()
    ctx_ = {"sender": "Bella", "preview": "first"}
    kw = {"user_id": user_id, "type_key": "new_message", "audience": "participant", "subject_key": "conversation:1"}
    a = center.create_notification(context=ctx_, source_key="m1", now=now, **kw)
    b = center.create_notification(context={**ctx_, "preview": "second"}, source_key="m2",
                                   now=now + timedelta(minutes=4), **kw)
    again = center.create_notification(context=ctx_, source_key="m2", now=now + timedelta(minutes=4), **kw)
    db.session.commit()
    assert a.new and not b.new and again.duplicate
    [n] = notifications_of(user_id)
    assert (n.count, n.body) == (2, "second")
    # After the window (5 minutes since the last update) a repeat is a new notification.
    c = center.create_notification(context=ctx_, source_key="m3", now=now + timedelta(minutes=10), **kw)
    db.session.commit()
    assert c.new and len(notifications_of(user_id)) == 2
    # Another subject never folds.
    d = center.create_notification(context=ctx_, source_key="m4", now=now + timedelta(minutes=10),
                                   **{**kw, "subject_key": "conversation:2"})
    assert d.new


def _seed(user_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    ids = []
    for i in range(n):
        created = center.create_notification(user_id=user_id, type_key="account_email_verified", audience="user",
                                             context={"email": f"x{i}@example.com"}, subject_key=f"s{i}")
        ids.append(created.notification.id)
    db.session.commit()
    return ids


def test_center_tabs_badge_mark_read_bulk_and_archive(ctx, client):
    user_id = alice()
    ids = _seed(user_id, 3)
    login_as(client, ALICE_EMAIL)

    page = client.get("/notifications/")
    assert page.status_code == 200 and page.data.count(b"Email address verified") == 3
    token = csrf_from(page.data)
    assert b'class="notif-count"' in page.data and b">3<" in page.data  # bell badge in the nav
    assert client.get("/notifications/badge", headers={"Accept": "application/json"}).json == {"unread": 3}

    resp = client.post(f"/notifications/{ids[0]}/read", data={"csrf_token": token})
    assert resp.status_code == 302
    assert client.get("/notifications/badge", headers={"Accept": "application/json"}).json == {"unread": 2}
    unread = client.get("/notifications/?tab=unread").data
    assert unread.count(b"Email address verified") == 2

    client.post("/notifications/bulk", data={"csrf_token": token, "action": "archive", "ids": [str(ids[1])]})
    assert client.get("/notifications/?tab=archived").data.count(b"Email address verified") == 1
    assert client.get("/notifications/?tab=all").data.count(b"Email address verified") == 2

    client.post("/notifications/bulk", data={"csrf_token": token, "all": "1"})
    assert client.get("/notifications/badge", headers={"Accept": "application/json"}).json == {"unread": 0}
    assert b"You are all caught up." in client.get("/notifications/?tab=unread").data

    # HTMX tab switch renders only the center block.
    frag = client.get("/notifications/?tab=all", headers={"HX-Request": "true"})
    assert frag.data.lstrip().startswith(b'<div id="notification-center">') and b"<html" not in frag.data


def test_nobody_reads_or_changes_another_persons_notifications(ctx, client):
    alice_id = alice()
    bob_id = make_user("bob@example.com", name="Bob")
    [bobs] = _seed(bob_id, 1)
    login_as(client, ALICE_EMAIL)
    page = client.get("/notifications/")
    token = csrf_from(page.data)
    assert b"Email address verified" not in page.data
    for url in (f"/notifications/{bobs}/read", f"/notifications/{bobs}/archive"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert client.get(f"/notifications/{bobs}/open").status_code == 404
    assert client.get(f"/notifications/{bobs}/log").status_code == 404
    client.post("/notifications/bulk", data={"csrf_token": token, "action": "archive", "ids": [str(bobs)]})
    client.post("/notifications/bulk", data={"csrf_token": token, "all": "1"})
    db.session.expire_all()
    n = db.session.get(Notification, bobs)
    assert n.read_at is None and n.archived_at is None
    assert center.unread_count(bob_id) == 1 and center.unread_count(alice_id) == 0
    assert center.get_notification(alice_id, bobs) is None
    # Anonymous visitors are sent to log in.
    client.post("/logout", data={"csrf_token": token})
    anon = client.application.test_client()
    assert anon.get("/notifications/").status_code == 302


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(ctx, client, mailbox):
    biz = bella()
    alice_id = alice()
    book(biz, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)
    [n] = notifications_of(alice_id)
    login_as(client, ALICE_EMAIL)
    resp = client.get(f"/notifications/{n.id}/open")
    assert resp.status_code == 302 and "/manage/" in resp.headers["Location"]
    assert center.unread_count(alice_id) == 0


def test_live_badge_goes_to_the_person_over_socketio(ctx, monkeypatch, mailbox):
    sent = []
    monkeypatch.setattr(center, "emit_to_user", lambda user_id, event, data: sent.append((user_id, event, data)))
    biz = bella()
    alice_id = alice()
    book(biz, day_at(3, 10), user_id=alice_id)
    relay_outbox()
    from tests.support.conftest_mail import run_jobs

    assert run_jobs(ctx) == []
    mine = [s for s in sent if s[0] == alice_id]
    assert mine and mine[0][1] == "notification" and mine[0][2]["unread"] == 1
    assert mine[0][2]["notification"]["title"] == "Booking confirmed"
    # When the live update cannot go out (the message queue is down) the badge is skipped quietly.
    def unreachable(user_id, event, data):
        raise ConnectionError("message queue down")

    monkeypatch.setattr(center, "emit_to_user", unreachable)
    assert center.push_badge(alice_id) is False
