# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""The cost of one chat ``send`` in SQL statements, and that the cheap path still refuses
whoever may no longer write (issue 15: at most three statements per message).

Plaza's Socket.IO server runs in this process here (werkzeug's threaded server, the same app and
handlers as under gunicorn; WebSocket through simple-websocket) so a SQLAlchemy
``before_cursor_execute`` listener sees every statement the ``send`` handler causes — the
transaction's row-level-security ``set_config`` included (it is a separate statement, issued when
the transaction begins) and the after-commit effects included. Only ``BEGIN``/``COMMIT`` are not
counted, and psycopg sends those without a cursor. Real python-socketio clients talk to it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import has_request_context, request
from werkzeug.serving import make_server

from app.booking.service import cancel_by_customer
from app.chat.models import Message, Participant
from app.community import blocks
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.tenants.context import tenant_scope
from app.tenants.models import Membership, Tenant
from tests.blueprints.realtime.test_chat_realtime import run
from tests.factories import make_user
from tests.support.chat_fixtures import ChatClient, conversation_id, free_port, session_cookie, world  # noqa: F401

pytestmark = pytest.mark.integration

#: The target of issue 15 for one message on the send path.
MAX_STATEMENTS = 3


@pytest.fixture
def server(app, monkeypatch) -> Iterator[int]:
    """Plaza (HTTP and Socket.IO) served from this process on a free port; yields the port.

    A fresh app for it (as production makes one per process): ``create_app`` binds the one
    Socket.IO server to the app it builds, and other tests build apps too."""
    from app import create_app
    from app.blueprints.realtime import connect

    port = free_port()
    # No watchdog task left behind in the test process (the tests here do not need its sweeps).
    monkeypatch.setattr(connect, "ensure_watchdog", lambda: None)
    served = create_app({"TESTING": True, "SERVER_NAME": None, "PORT": port})
    httpd = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield port
    httpd.shutdown()
    thread.join(10)
    with served.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


class SendStatements:
    """Every SQL statement run while handling a Socket.IO ``send`` event in this process."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if has_request_context() and (getattr(request, "event", None) or {}).get("message") == "send":
            with self._lock:
                self.statements.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        """The statements seen since the last call."""
        with self._lock:
            out, self.statements = self.statements, []
        return out


@pytest.fixture
def statements() -> Iterator[SendStatements]:
    """Counts the statements of ``send`` events (all engines) during the test."""
    seen = SendStatements()
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)


def stored(app, tenant_id) -> list[Message]:
    with app.app_context(), tenant_scope(tenant_id):
        try:
            return list(db.session.scalars(sa.select(Message).order_by(Message.seq)))
        finally:
            db.session.remove()


def test_a_message_costs_at_most_three_statements_and_writes_everything(app, world, server, statements):
    cid = conversation_id(app, world)
    tid = world.biz.tenant_id

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await customer.connect(f"http://localhost:{server}")
            await staff.connect(f"http://bella.localhost:{server}")
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": str(tid)}))["ok"]
            assert (await staff.call("join", {"conversation_id": cid}))["ok"]
            statements.take()
            acks = []
            for i in range(3):  # the customer (apex) and staff (business host) alike
                acks.append(await customer.call("send", {"conversation_id": cid, "body": f"Hello {i}"}))
                per_message = statements.take()
                assert 1 <= len(per_message) <= MAX_STATEMENTS, per_message
            acks.append(await staff.call("send", {"conversation_id": cid, "body": "Hi Cara"}))
            per_message = statements.take()
            assert 1 <= len(per_message) <= MAX_STATEMENTS, per_message
            assert all(a["ok"] for a in acks), acks
            # the message reaches the other side, rendered by the server
            await staff.wait_for(lambda: "Hello 2" in staff.bodies())
            await customer.wait_for(lambda: "Hi Cara" in customer.bodies())
            assert customer.events["chat:message"][-1]["html"] == "Hi Cara"
            # the other side's account is told "one more" (no count is read on the send path)
            await staff.wait_for(lambda: any(u.get("delta") == 1 for u in staff.events["chat:unread"]))
            return acks
        finally:
            await customer.close()
            await staff.close()

    acks = run(body())
    seqs = [a["message"]["seq"] for a in acks]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    messages = stored(app, tid)
    assert [m.body for m in messages] == ["Hello 0", "Hello 1", "Hello 2", "Hi Cara"]
    assert [m.seq for m in messages] == seqs
    with app.app_context(), tenant_scope(tid):
        try:
            marks = {p.role: (p.last_delivered_seq, p.last_read_seq)
                     for p in db.session.scalars(sa.select(Participant))}
            events = list(db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "chat.message_created")
                                             .order_by(OutboxEvent.created_at)))
        finally:
            db.session.remove()
    # the one statement moved the author's own watermarks to their message
    assert marks["customer"][1] >= seqs[2] and marks["customer"][0] >= seqs[2]
    assert marks["staff"] == (seqs[3], seqs[3])
    # one outbox row per message, with what the consumers need
    assert sorted(e.payload["seq"] for e in events) == seqs
    last = next(e.payload for e in events if e.payload["seq"] == seqs[3])
    assert last["author_role"] == "staff" and last["sender_name"] and last["preview"] == "Hi Cara"
    assert last["subject_type"] == "booking" and last["subject_id"] == str(world.booking_id)
    assert last["message_id"] == acks[3]["message"]["id"] and last["conversation_id"] == cid


def test_a_customer_blocked_or_cancelled_after_joining_is_refused(app, world, server, statements):
    cid = conversation_id(app, world)
    tid = world.biz.tenant_id

    def block() -> uuid.UUID:
        with app.app_context(), tenant_scope(tid):
            try:
                found = blocks.block_person(email=world.customer_email.upper())
                db.session.commit()
                return found.id
            finally:
                db.session.remove()

    def unblock(block_id: uuid.UUID) -> None:
        with app.app_context(), tenant_scope(tid):
            try:
                blocks.unblock(block_id)
                db.session.commit()
            finally:
                db.session.remove()

    def cancel() -> None:
        from app.booking.models import Booking

        with app.app_context(), tenant_scope(tid):
            try:
                booking = db.session.scalar(sa.select(Booking).where(Booking.id == world.booking_id))
                cancel_by_customer(db.session.get(Tenant, tid), booking, "changed plans")
                db.session.commit()
            finally:
                db.session.remove()

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        try:
            await customer.connect(f"http://localhost:{server}")
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": str(tid)}))["ok"]
            assert (await customer.call("send", {"conversation_id": cid, "body": "before"}))["ok"]
            block_id = block()  # by the booking's email, while the socket stays joined
            ack = await customer.call("send", {"conversation_id": cid, "body": "while blocked"})
            assert ack["ok"] is False and ack["code"] == "ConversationClosed" and "does not accept" in ack["error"]
            unblock(block_id)
            assert (await customer.call("send", {"conversation_id": cid, "body": "after"}))["ok"]
            cancel()
            ack = await customer.call("send", {"conversation_id": cid, "body": "after cancelling"})
            assert ack["ok"] is False and ack["code"] == "ConversationClosed" and "cancelled" in ack["error"]
        finally:
            await customer.close()

    run(body())
    assert [m.body for m in stored(app, tid)] == ["before", "after"]


def test_a_staff_member_removed_after_joining_loses_access(app, world, server, statements):
    cid = conversation_id(app, world)
    tid = world.biz.tenant_id
    with app.app_context():
        sam = make_user("sam@example.test", name="Sam Staff")
        with tenant_scope(tid):
            db.session.add(Membership(user_id=sam, role="staff"))
            db.session.commit()
        db.session.remove()

    def remove() -> None:
        with app.app_context(), tenant_scope(tid):
            try:
                db.session.execute(sa.delete(Membership).where(Membership.user_id == sam))
                db.session.commit()
            finally:
                db.session.remove()

    async def body():
        staff = ChatClient(session_cookie(app, "sam@example.test"))
        try:
            await staff.connect(f"http://bella.localhost:{server}")
            assert (await staff.call("join", {"conversation_id": cid}))["ok"]
            assert (await staff.call("send", {"conversation_id": cid, "body": "on duty"}))["ok"]
            remove()
            assert await staff.call("send", {"conversation_id": cid, "body": "sacked"}) == {
                "ok": False, "error": "not_found"}
            # the socket left the conversation: later sends and joins are refused too
            assert (await staff.call("send", {"conversation_id": cid, "body": "again"}))["ok"] is False
            assert (await staff.call("join", {"conversation_id": cid}))["ok"] is False
        finally:
            await staff.close()

    run(body())
    assert [m.body for m in stored(app, tid)] == ["on duty"]


def test_a_guest_message_costs_at_most_three_statements_too(app, world, server, statements):
    """A guest (manage link, no account) is re-checked on every event (their booking read: still
    open, link not expired), then the same one-statement send."""
    from tests.blueprints.realtime.test_chat_guest import connect_guest, make_guest

    guest = make_guest(app, world.biz.tenant_id)

    async def body():
        g = ChatClient()
        try:
            await connect_guest(g, f"http://bella.localhost:{server}", guest.token)
            assert (await g.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            statements.take()
            for i in range(2):
                assert (await g.call("send", {"conversation_id": guest.conversation_id, "body": f"guest {i}"}))["ok"]
                per_message = statements.take()
                assert 1 <= len(per_message) <= MAX_STATEMENTS, per_message
        finally:
            await g.close()

    run(body())
    assert [m.body for m in stored(app, world.biz.tenant_id)] == ["guest 0", "guest 1"]
