"""Smart fan-out: a new-message email waits and is dropped when the person read it in the
app or is online in the conversation; repeats fold; chat messages arrive through the outbox;
reminders reach the center; staff hear about their own bookings only; and an owner sees
what was sent to a customer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from app.extensions import db
from app.identity.models import User
from app.jobs.runner import QUEUE_NAME
from app.notifications import center, dispatch, fanout, sending
from app.notifications import presence as presence_source
from app.notifications.tasks import sweep_due_reminders
from app.outbox.models import OutboxEvent
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import login_as
from tests.support.conftest_mail import run_jobs, subject_of
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


class FakePresence:
    """Presence we control: who is online in which conversation, who read it when."""

    def __init__(self) -> None:
        self.online: set[tuple[uuid.UUID, str]] = set()
        self.read: dict[tuple[uuid.UUID, str], datetime] = {}

    def is_online_in(self, user_id: uuid.UUID, conversation_id: str, tenant_id=None) -> bool:
        return (user_id, conversation_id) in self.online

    def read_since(self, user_id: uuid.UUID, conversation_id: str, since: datetime, tenant_id=None) -> bool:
        at = self.read.get((user_id, conversation_id))
        return at is not None and at >= since


@pytest.fixture
def presence():
    fake = FakePresence()
    previous = presence_source.set_presence_source(fake)
    yield fake
    presence_source.set_presence_source(previous)


def message(user_id: uuid.UUID, conversation: str = "c1", text: str = "See you tomorrow!", msg_id: str | None = None):
    results = fanout.notify_new_message(tenant_id=None, conversation_id=conversation, message_id=msg_id or str(uuid.uuid4()),
                                        sender_name="Bella Hair Studio", preview=text, recipient_user_ids=[user_id],
                                        url="/account/messages/c1")
    db.session.commit()
    dispatch.enqueue_deliveries([q for r in results for q in r.queued])
    return results


def scheduled_jobs(app) -> list[str]:
    conn = Redis.from_url(app.config["REDIS_URL"])
    return ScheduledJobRegistry(queue=Queue(QUEUE_NAME, connection=conn)).get_job_ids()


def test_message_email_waits_ten_minutes_and_is_dropped_when_read_in_the_app(ctx, mailbox, presence):
    alice_id = alice()
    before = utcnow()
    message(alice_id)
    [email] = deliveries_of(alice_id, "email")
    assert email.status == "queued" and email.not_before >= before + timedelta(minutes=10)
    assert len(scheduled_jobs(ctx)) == 1  # the email job waits in RQ's scheduler
    assert run_jobs(ctx) == []
    assert mailbox.to(ALICE_EMAIL) == []

    center.mark_read(alice_id)  # Alice reads it in the app within the 10 minutes
    db.session.commit()
    assert sending.deliver_now(email.id) == "skipped"  # the job, when it runs
    [email] = deliveries_of(alice_id, "email")
    assert (email.status, email.error) == ("skipped", "read in the app")
    assert mailbox.to(ALICE_EMAIL) == []


def test_unread_message_is_emailed_after_the_wait(ctx, mailbox, presence):
    alice_id = alice()
    message(alice_id)
    [email] = deliveries_of(alice_id, "email")
    assert sending.deliver_now(email.id) == "sent"
    [msg] = mailbox.to(ALICE_EMAIL)
    assert subject_of(msg) == "New message from Bella Hair Studio"
    assert "See you tomorrow!" in msg.get_body(("plain",)).get_content()


def test_no_message_email_while_online_in_the_conversation_or_after_reading_it_there(ctx, mailbox, presence):
    alice_id = alice()
    presence.online.add((alice_id, "c1"))
    message(alice_id)
    [email] = deliveries_of(alice_id, "email")
    assert (email.status, email.error) == ("skipped", "online in the conversation")
    assert [n.type for n in notifications_of(alice_id)] == ["new_message"]  # still in the center

    # Offline when it was sent, but read the conversation before the email was due.
    presence.online.clear()
    message(alice_id, conversation="c2")
    [_, email2] = deliveries_of(alice_id, "email")
    presence.read[(alice_id, "c2")] = utcnow()
    assert sending.deliver_now(email2.id) == "skipped"
    assert deliveries_of(alice_id, "email")[1].error == "read in the conversation"
    assert mailbox.to(ALICE_EMAIL) == []


def test_a_burst_of_messages_folds_into_one_notification_and_one_email(ctx, mailbox, presence):
    alice_id = alice()
    for i in range(4):
        message(alice_id, text=f"message {i}")
    [n] = notifications_of(alice_id)
    assert (n.count, n.body) == (4, "message 3")
    assert len(deliveries_of(alice_id, "email")) == 1
    assert center.unread_count(alice_id) == 1


def test_chat_message_event_goes_through_the_outbox(ctx, mailbox, presence):
    biz = bella()
    alice_id = alice()
    with tenant_scope(biz.tenant_id):
        db.session.add(OutboxEvent(kind="chat.message_created", payload={
            "conversation_id": "c9", "message_id": "m1", "sender_name": "Staff 1", "preview": "Your table is ready",
            "recipient_user_ids": [str(alice_id)], "url": "/account/messages/c9"}))
        db.session.commit()
    relay_outbox()
    assert run_jobs(ctx) == []
    [n] = notifications_of(alice_id)
    assert (n.title, n.body, n.tenant_id, n.subject_key) == (
        "New message from Staff 1", "Your table is ready", biz.tenant_id, "conversation:c9")


def test_reminders_reach_the_center_once(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    start = day_at(3, 10)
    book(biz, start, user_id=alice_id)
    deliver_all(ctx)
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=59)) == 1
    assert run_jobs(ctx) == []
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=58)) == 0
    assert run_jobs(ctx) == []
    types = [n.type for n in notifications_of(alice_id)]
    assert types == ["booking_confirmed", "booking_reminder_24h"]
    assert len(mailbox.to(ALICE_EMAIL, "Reminder:")) == 1


def test_an_account_booked_at_two_businesses_at_the_same_time_gets_both_reminders(ctx, mailbox):
    """The reminder's source is the booking and its start, not the start alone: before, the second
    business's reminder was taken for a repeat of the first one's (whose notification the second
    business cannot see), and the batch failed on it at every dispatch."""
    alice_id = alice()
    start = day_at(3, 10)
    book(bella(), start, user_id=alice_id)
    book(make_business("fixit"), start, user_id=alice_id)
    deliver_all(ctx)
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=59)) == 2
    assert run_jobs(ctx) == []
    reminders = [n for n in notifications_of(alice_id) if n.type == "booking_reminder_24h"]
    assert len(reminders) == 2
    assert len(mailbox.to(ALICE_EMAIL, "Reminder:")) == 2


def test_staff_hear_about_their_own_bookings_owners_about_all(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    s1 = make_user("s1@bella.test", name="Staff One")
    s2 = make_user("s2@bella.test", name="Staff Two")
    with tenant_scope(biz.tenant_id):
        add_membership(db.session.get(User, s1), Role.STAFF, biz.staff_ids[0])
        add_membership(db.session.get(User, s2), Role.STAFF, biz.staff_ids[1])
        db.session.commit()
    book(biz, day_at(3, 10), user_id=alice_id)  # with staff 1
    deliver_all(ctx)
    owner = db.session.scalar(sa.select(User.id).where(User.email == biz.owner_email))
    assert [n.title for n in notifications_of(s1)] == ["New booking"]
    assert notifications_of(s2) == []
    assert [n.title for n in notifications_of(owner)] == ["New booking"]


def test_owner_sees_what_was_sent_to_a_customer_and_nobody_else_does(ctx, client, mailbox):
    biz = bella()
    other = make_business("other")
    alice_id = alice()
    book(biz, day_at(3, 10), user_id=alice_id)
    book(other, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)
    from app.booking.models import Customer

    with tenant_scope(biz.tenant_id):
        customer_id = db.session.scalar(sa.select(Customer.id))
    with tenant_scope(other.tenant_id):
        other_customer = db.session.scalar(sa.select(Customer.id))

    host = "bella.localhost"
    login_as(client, biz.owner_email, host)
    listing = client.get("/notifications/sent", base_url=f"http://{host}")
    assert listing.status_code == 200 and b"Alice Andersen" in listing.data
    page = client.get(f"/notifications/sent/{customer_id}", base_url=f"http://{host}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Booking confirmed: Haircut on" in html  # the booking email, from the delivery table
    assert "inapp" in html and "push" in html and "no push subscription" in html
    assert html.count("Booking confirmed") >= 2
    assert "Other" not in html  # nothing from the other business
    # Another business's customer answers like a missing one.
    assert client.get(f"/notifications/sent/{other_customer}", base_url=f"http://{host}").status_code == 404
    assert client.get(f"/notifications/sent/{uuid.uuid4()}", base_url=f"http://{host}").status_code == 404

    # Staff without a manager role get 403 and customers 404 (app.web.access policy).
    staff = make_user("s1@bella.test")
    with tenant_scope(biz.tenant_id):
        add_membership(db.session.get(User, staff), Role.STAFF, biz.staff_ids[0])
        db.session.commit()
    for email, status in (("s1@bella.test", 403), (ALICE_EMAIL, 404)):
        other_client = client.application.test_client()
        login_as(other_client, email, host)
        assert other_client.get(f"/notifications/sent/{customer_id}", base_url=f"http://{host}").status_code == status
        assert other_client.get("/notifications/sent", base_url=f"http://{host}").status_code == status


def test_a_lost_delivery_job_is_requeued_by_the_sweep(ctx, mailbox):
    alice_id = alice()
    dispatch.notify_now(user_id=alice_id, type_key="password_changed", audience="user", context={"when": "now"},
                      source_key="pw")
    db.session.commit()
    Redis.from_url(ctx.config["REDIS_URL"]).flushdb()  # the queued job is lost
    assert sending.requeue_stuck_deliveries() == 0  # not overdue yet
    assert sending.requeue_stuck_deliveries(now=utcnow() + timedelta(minutes=2)) == 1
    assert run_jobs(ctx) == []
    assert [d.status for d in deliveries_of(alice_id, "email")] == ["sent"]
    assert len(mailbox.to(ALICE_EMAIL)) == 1


def test_real_chat_message_presence_and_read_receipts(ctx, mailbox):
    """Against the chat module's own tables and Redis presence (no fake)."""
    from app.booking.models import Booking
    from app.chat import service as chat
    from app.chat.access import customer_principal, staff_principal
    from app.realtime import presence as chat_presence
    from app.redis_client import get_redis

    biz = bella()
    alice_id = alice()
    booking_id = book(biz, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)
    owner = db.session.scalar(sa.select(User).where(User.email == biz.owner_email))

    def staff_says(text: str) -> str:
        with tenant_scope(biz.tenant_id):
            booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
            assert booking is not None
            conv = chat.conversation_for_booking(booking_id)
            chat.post_message(conv, staff_principal(owner), text)  # writes its outbox event
            db.session.commit()
            return str(conv.id)

    conv_id = staff_says("Your colour is ready to book")
    relay_outbox()
    assert run_jobs(ctx) == []
    [note] = [n for n in notifications_of(alice_id) if n.type == "new_message"]
    assert note.body == "Your colour is ready to book" and note.subject_key == f"conversation:{conv_id}"
    [email] = deliveries_of(alice_id, "email", "new_message")
    assert email.status == "queued"  # waiting its 10 minutes
    email_id = email.id

    # Alice (who had not opened the chat before) reads the conversation: the email is dropped.
    with tenant_scope(biz.tenant_id):
        conv = chat.get_conversation(uuid.UUID(conv_id))
        assert [p.role for p in chat.participants(conv)] == ["staff"]
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        participant = chat.join_conversation(conv, customer_principal(booking, db.session.get(User, alice_id)))
        chat.mark_read(conv, participant)
        db.session.commit()
        participant_id = participant.id
    db.session.rollback()  # as in its job: a transaction of its own (the platform role's)
    assert sending.deliver_now(email_id) == "skipped"
    assert deliveries_of(alice_id, "email", "new_message")[0].error == "read in the conversation"

    # Alice has the conversation open when the next message arrives: no email at all.
    center.mark_read(alice_id)  # (an unread one would absorb the repeat inside the dedup window)
    db.session.commit()
    chat_presence.add(get_redis(), biz.tenant_id, conv_id, participant_id, "sid-1")
    staff_says("See you Tuesday")
    relay_outbox()
    assert run_jobs(ctx) == []
    emails = deliveries_of(alice_id, "email", "new_message")
    assert [(d.status, d.error) for d in emails][-1] == ("skipped", "online in the conversation")
    assert mailbox.to(ALICE_EMAIL, "New message") == []


def test_payment_refund_and_hold_expiry_events_reach_the_center(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    booking_id = book(biz, day_at(3, 10), user_id=alice_id)
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        refund = OutboxEvent(kind="payment.late_refund", payload={"booking_id": str(booking_id), "amount": 25000})
        held = OutboxEvent(kind="booking.hold_expired", payload={"booking_id": str(booking_id)})
        db.session.add_all([refund, held])
        db.session.commit()
        refund_id, held_id = str(refund.id), str(held.id)
    fanout.fanout_event(str(biz.tenant_id), refund_id)
    fanout.fanout_event(str(biz.tenant_id), held_id)
    fanout.fanout_event(str(biz.tenant_id), refund_id)  # a repeat changes nothing
    assert run_jobs(ctx) == []
    notes = {n.type: n for n in notifications_of(alice_id)}
    assert "250,00" in notes["refund_issued"].body and "Bella Hair Studio" in notes["refund_issued"].body
    assert "hold_expired" in notes
    assert len(notifications_of(alice_id)) == 3
    # The payments path sends the refund email itself; a payment hold that ran out emails nobody.
    assert deliveries_of(alice_id, "email", "refund_issued") == deliveries_of(alice_id, "email", "hold_expired") == []


def test_an_announcement_goes_out_through_the_outbox_after_commit_and_once(ctx, mailbox):
    from app.notifications import preferences

    biz = bella()
    alice_id = alice()
    book(biz, day_at(3, 10), user_id=alice_id)
    preferences.grant_consent(alice_id, method="signup checkbox", source="/signup-customer")
    db.session.commit()
    deliver_all(ctx)

    with tenant_scope(biz.tenant_id):  # a transaction that rolls back announces nothing
        fanout.record_announcement("Bella Hair Studio", "Never sent", "Rolled back.", "http://bella.localhost/")
        db.session.rollback()
    deliver_all(ctx)
    assert mailbox.to(ALICE_EMAIL, "Bella Hair Studio: Never sent") == []

    with tenant_scope(biz.tenant_id):
        announcement_id = fanout.record_announcement("Bella Hair Studio", "Winter offer", "20% off colouring.",
                                                     "http://bella.localhost/")
        assert run_jobs(ctx) == [] and mailbox.to(ALICE_EMAIL, "Bella Hair Studio: Winter") == []  # not before commit
        db.session.commit()
    deliver_all(ctx)
    fanout.fanout_event(str(biz.tenant_id), announcement_id)  # relayed twice: nobody hears twice
    assert run_jobs(ctx) == []
    assert len(mailbox.to(ALICE_EMAIL, "Bella Hair Studio: Winter offer")) == 1
    assert [n.title for n in notifications_of(alice_id)].count("Bella Hair Studio: Winter offer") == 1
