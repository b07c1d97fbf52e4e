# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""New-message notifications from real chat messages, through the outbox and the fan-out,
delivered to a real SMTP server: who is told (the booking's customer even before they opened
the chat; a guest by email), the link each one gets (and that it opens their page), and that
reading the conversation (page or socket) reads its notifications and updates the badge."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app.chat import service as chat
from app.chat.models import Message
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import QUEUE_NAME
from app.notifications import center, fanout, sending
from app.notifications.center_models import Notification
from app.outbox.relay import relay_outbox
from app.realtime import presence as chat_presence
from app.redis_client import get_redis
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.blueprints.realtime.test_chat_guest import make_guest
from tests.blueprints.realtime.test_chat_realtime import run
from tests.helpers import csrf_from, login_as
from tests.support.chat_fixtures import (  # noqa: F401
    ChatClient,
    chat_server,
    conversation_id,
    make_booking,
    session_cookie,
    world,
)
from tests.support.conftest_mail import run_jobs, subject_of, text_of
from tests.support.notification_support import deliveries_of, notifications_of

pytestmark = pytest.mark.integration

GUEST = "gus@example.test"


# --------------------------------------------------------------------------- helpers


def _host(world) -> str:
    return f"{world.biz.slug}.localhost"


def _client(app, email: str, host: str = "localhost"):
    client = app.test_client()
    login_as(client, email, host)
    return client


def _post(client, path: str, body: str, host: str = "localhost"):
    base = f"http://{host}"
    page = client.get(path, base_url=base)
    assert page.status_code == 200
    resp = client.post(path, data={"csrf_token": csrf_from(page.data), "body": body}, base_url=base)
    assert resp.status_code == 303, resp.text
    return resp


def _fan_out(app) -> None:
    """Relay the outbox and run the jobs it causes (fan-out, then the deliveries it enqueues)."""
    relay_outbox()
    for _ in range(2):
        assert run_jobs(app) == []


def _messages(user_id: uuid.UUID) -> list[Notification]:
    return [n for n in notifications_of(user_id) if n.type == "new_message"]


def _reply_link(msg) -> str:
    found = re.search(r"^Reply: (\S+)", text_of(msg), re.M)
    assert found, text_of(msg)
    return found.group(1)


def _scheduled(app) -> list[Job]:
    conn = Redis.from_url(app.config["REDIS_URL"])
    registry = ScheduledJobRegistry(queue=Queue(QUEUE_NAME, connection=conn))
    jobs = [Job.fetch(i, connection=conn) for i in registry.get_job_ids()]
    return [j for j in jobs if j.func_name.endswith("send_guest_message_email")]  # (not the reminders)


def _run_when_due(job: Job) -> str:
    """Run a scheduled job's call now, as the scheduler would at its time."""
    return job.func(*job.args, **job.kwargs)


def _staff_id(world) -> uuid.UUID:
    return world.owner_user_id


class Published:
    """Socket.IO events published to a user's room through Redis (what their open tabs get)."""

    def __init__(self, app) -> None:
        self.pubsub = Redis.from_url(app.config["REDIS_URL"]).pubsub()
        self.pubsub.subscribe("flask-socketio")
        self.pubsub.get_message(timeout=1)  # the subscribe confirmation

    def to_user(self, user_id: uuid.UUID, event: str) -> list[dict]:
        out = []
        while (m := self.pubsub.get_message(timeout=0.2)) is not None:
            if m["type"] != "message":
                continue
            data = json.loads(m["data"])
            if data.get("event") == event and data.get("room") == f"user:{user_id}":
                args = data["data"]
                out.append(args[0] if isinstance(args, list) else args)
        return out

    def close(self) -> None:
        self.pubsub.close()


# --------------------------------------------------------------------------- domain


def test_staff_message_names_the_customer_account_before_they_open_the_chat(ctx, world):
    with tenant_scope(world.biz.tenant_id):
        conv = chat.conversation_for_booking(world.booking_id)
        owner = db.session.get(User, world.owner_user_id)
        from app.chat.access import staff_principal

        chat.post_message(conv, staff_principal(owner), "Your appointment moved to 11:00, is that OK?")
        author = chat.find_participant(conv, staff_principal(owner))
        assert [p.role for p in chat.participants(conv)] == ["staff"]  # the customer never joined
        assert chat.recipients(conv, author) == [world.customer_user_id]


# --------------------------------------------------------------------------- accounts


def test_customer_account_and_staff_get_emails_linking_to_their_own_chat_page(app, ctx, world, mailbox):
    staff = _client(app, world.biz.owner_email, _host(world))
    staff_path = f"/dashboard/bookings/{world.booking_id}/chat"
    _post(staff, staff_path, "Your colour is ready, shall we book it?", _host(world))
    _fan_out(app)

    # The customer never opened the chat and is still told, with a link to their account's page.
    [note] = _messages(world.customer_user_id)
    account_path = f"/account/messages/{world.biz.tenant_id}/{world.booking_id}"
    assert note.body == "Your colour is ready, shall we book it?"
    assert urlsplit(note.url).hostname == "localhost" and urlsplit(note.url).path == account_path
    [email] = deliveries_of(world.customer_user_id, "email", "new_message")
    assert email.status == "queued" and email.not_before >= utcnow() + timedelta(minutes=9)
    assert sending.deliver_now(email.id) == "sent"  # its time came, still unread
    [msg] = mailbox.to(world.customer_email, "New message")
    assert subject_of(msg) == "New message from bella owner"
    assert "Your colour is ready" in text_of(msg)
    link = urlsplit(_reply_link(msg))
    assert (link.hostname, link.path) == ("localhost", account_path)

    # The link opens the customer's conversation.
    customer = _client(app, world.customer_email)
    page = customer.get(link.path)
    assert page.status_code == 200 and "Your colour is ready, shall we book it?" in page.text

    # The customer's reply tells staff, with a link to the dashboard's page on the business's host.
    _post(customer, account_path, "Yes please, Tuesday works.")
    _fan_out(app)
    [staff_note] = _messages(world.owner_user_id)
    assert urlsplit(staff_note.url).hostname == _host(world) and urlsplit(staff_note.url).path == staff_path
    [staff_email] = deliveries_of(world.owner_user_id, "email", "new_message")
    assert sending.deliver_now(staff_email.id) == "sent"
    [staff_msg] = mailbox.to(world.biz.owner_email, "New message")
    link = urlsplit(_reply_link(staff_msg))
    assert (link.hostname, link.path) == (_host(world), staff_path)
    assert "Yes please, Tuesday works." in staff.get(link.path, base_url=f"http://{_host(world)}").text


def test_opening_the_conversation_reads_its_notifications_pushes_the_badge_and_drops_the_email(
        app, ctx, world, mailbox):
    other_booking, _ = make_booking(world.biz.tenant_id, world.customer_email, world.customer_user_id, hour=15)
    staff = _client(app, world.biz.owner_email, _host(world))
    _post(staff, f"/dashboard/bookings/{world.booking_id}/chat", "About your 10:00", _host(world))
    _post(staff, f"/dashboard/bookings/{other_booking}/chat", "About your 15:00", _host(world))
    _fan_out(app)
    unread_before = center.unread_count(world.customer_user_id)  # the two messages and the bookings' confirmations
    assert [n.body for n in _messages(world.customer_user_id) if n.read_at is None] == [
        "About your 10:00", "About your 15:00"]
    first_email = next(d for d in deliveries_of(world.customer_user_id, "email")
                       if db.session.get(Notification, d.notification_id).body == "About your 10:00")

    published = Published(app)
    try:
        customer = _client(app, world.customer_email)
        page = customer.get(f"/account/messages/{world.biz.tenant_id}/{world.booking_id}")
        assert page.status_code == 200 and "About your 10:00" in page.text
        badge = published.to_user(world.customer_user_id, "notification")  # what their open tabs get
        assert badge[-1]["unread"] == unread_before - 1
    finally:
        published.close()
    # Only that conversation's notification is read; the other one still waits.
    assert [n.body for n in _messages(world.customer_user_id) if n.read_at is None] == ["About your 15:00"]
    assert center.unread_count(world.customer_user_id) == unread_before - 1
    # Its email, when due, is not sent.
    assert sending.deliver_now(first_email.id) == "skipped"
    assert db.session.get(type(first_email), first_email.id).error == "read in the app"
    assert mailbox.to(world.customer_email, "New message") == []


def test_reading_over_the_socket_reads_the_notifications_and_pushes_the_badge(app, ctx, world, chat_server):
    cid = conversation_id(app, world)
    tid = str(world.biz.tenant_id)

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        try:
            await customer.connect(chat_server.url())
            with app.app_context():  # (this coroutine runs in its own thread: no RQ worker here)
                with tenant_scope(world.biz.tenant_id):
                    from app.chat.access import staff_principal
                    from app.outbox.models import OutboxEvent

                    conv = chat.get_conversation(uuid.UUID(cid))
                    msg = chat.post_message(conv, staff_principal(db.session.get(User, world.owner_user_id)),
                                            "Ready?")
                    event_id = str(db.session.scalar(sa.select(OutboxEvent.id).where(
                        OutboxEvent.payload["message_id"].astext == str(msg.id))))
                    db.session.commit()
                # The fan-out job for that outbox event; the customer had not joined: told all the same.
                fanout.fanout_event(tid, event_id)
                db.session.remove()
            await customer.wait_for(lambda: any((e.get("notification") or {}).get("type") == "new_message"
                                                for e in customer.events["notification"]))
            unread = customer.events["notification"][-1]["unread"]
            joined = await customer.call("join", {"conversation_id": cid, "tenant_id": tid, "last_seq": 0})
            assert joined["ok"] and [m["body"] for m in joined["messages"]] == ["Ready?"]
            read = await customer.call("read", {"conversation_id": cid})
            assert read["ok"] and read["unread"] == 0
            await customer.wait_for(lambda: customer.events["notification"][-1]["unread"] == unread - 1)
        finally:
            await customer.close()

    run(body())
    [note] = _messages(world.customer_user_id)
    assert note.read_at is not None


# --------------------------------------------------------------------------- guests


def test_guest_gets_one_email_for_a_burst_linking_to_the_manage_chat_page(app, ctx, world, mailbox):
    guest = make_guest(app, world.biz.tenant_id, GUEST)
    staff = _client(app, world.biz.owner_email, _host(world))
    path = f"/dashboard/bookings/{guest.booking_id}/chat"
    before = utcnow()
    _post(staff, path, "Hi Gus, we are running 10 minutes late.", _host(world))
    _post(staff, path, "Sorry about that!", _host(world))
    _fan_out(app)
    assert mailbox.to(GUEST, "New message") == []  # it waits its 10 minutes

    jobs = _scheduled(app)
    assert len(jobs) == 2
    conn = Redis.from_url(app.config["REDIS_URL"])
    registry = ScheduledJobRegistry(queue=Queue(QUEUE_NAME, connection=conn))
    assert all(registry.get_scheduled_time(j) >= before + timedelta(minutes=10) - timedelta(seconds=1)
               for j in jobs)
    by_seq = sorted(jobs, key=lambda j: _seq_of(j.args[2], guest.tenant_id))
    assert [_run_when_due(j) for j in by_seq] == ["sent", "skipped: covered by an earlier email"]
    assert _run_when_due(by_seq[0]) != "sent"  # a job run twice sends nothing more

    [msg] = mailbox.to(GUEST, "New message")
    assert subject_of(msg) == "New message from bella owner at Bella"
    text = text_of(msg)
    assert "we are running 10 minutes late" in text and "Sorry about that!" in text
    link = urlsplit(_reply_link(msg))
    assert link.hostname == _host(world) and re.fullmatch(r"/manage/[^/]+/chat", link.path)  # (a fresh token)
    anonymous = app.test_client()
    page = anonymous.get(link.path, base_url=f"http://{_host(world)}")
    assert page.status_code == 200 and "Sorry about that!" in page.text


def _seq_of(message_id: str, tenant_id: uuid.UUID) -> int:
    with tenant_scope(tenant_id):
        seq = db.session.scalar(sa.select(Message.seq).where(Message.id == uuid.UUID(message_id)))
        db.session.commit()
        return seq


@pytest.mark.parametrize("engaged", ["read", "online"])
def test_guest_who_read_the_chat_or_is_online_gets_no_email(app, ctx, world, mailbox, engaged):
    guest = make_guest(app, world.biz.tenant_id, GUEST)
    manage_chat = f"/manage/{guest.token}/chat"
    anonymous = app.test_client()
    assert anonymous.get(manage_chat, base_url=f"http://{_host(world)}").status_code == 200  # joins as the guest
    if engaged == "online":
        with tenant_scope(world.biz.tenant_id):
            conv = chat.get_conversation(uuid.UUID(guest.conversation_id))
            [me] = [p for p in chat.participants(conv) if p.role == chat.CUSTOMER]
            chat_presence.add(get_redis(), world.biz.tenant_id, conv.id, me.id, "sid-guest")
            db.session.commit()
    staff = _client(app, world.biz.owner_email, _host(world))
    _post(staff, f"/dashboard/bookings/{guest.booking_id}/chat", "Parking is at the back.", _host(world))
    _fan_out(app)
    if engaged == "online":
        assert _scheduled(app) == []  # online when it was sent: no email at all
    else:
        [job] = _scheduled(app)
        assert anonymous.get(manage_chat, base_url=f"http://{_host(world)}").status_code == 200  # reads it
        assert _run_when_due(job) == "skipped: read in the conversation"
    assert mailbox.to(GUEST, "New message") == []


def test_a_guest_email_whose_worker_died_mid_send_is_sent_by_the_sweep(app, ctx, world, mailbox):
    from app.delivery.models import Delivery
    from app.notifications.chat_messages import dedup_key
    from app.notifications.tasks import reclaim_stale_deliveries

    guest = make_guest(app, world.biz.tenant_id, GUEST)
    staff = _client(app, world.biz.owner_email, _host(world))
    _post(staff, f"/dashboard/bookings/{guest.booking_id}/chat", "Your table is ready.", _host(world))
    _fan_out(app)
    [job] = _scheduled(app)
    message_id = job.args[2]
    job.delete()  # the worker took it and died while sending: the claim is left behind
    with tenant_scope(world.biz.tenant_id):
        db.session.add(Delivery(dedup_key=dedup_key(guest.conversation_id, message_id), recipient=GUEST,
                                status="sending", claimed_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    assert reclaim_stale_deliveries() == 1
    assert run_jobs(app) == []
    [msg] = mailbox.to(GUEST, "New message")
    assert "Your table is ready." in text_of(msg)
    assert reclaim_stale_deliveries() == 0
