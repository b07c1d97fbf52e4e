# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Chat domain: posting, validation, rate limit, receipts, unread counts, rendering."""

from __future__ import annotations

import pytest

from app.chat import service as chat
from app.chat.errors import EmptyMessage, MessageTooLong, RateLimited
from app.chat.models import Message
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.support.chat_fixtures import world  # noqa: F401

pytestmark = pytest.mark.integration


def _people(w):
    customer = chat.Principal(chat.CUSTOMER, user_id=w.customer_user_id, customer_id=w.customer_id, name="Cara")
    staff = chat.Principal(chat.STAFF, user_id=w.owner_user_id, name="Owner")
    return customer, staff


def test_conversation_is_created_once_per_booking(ctx, world):
    with tenant_scope(world.biz.tenant_id):
        a = chat.conversation_for_booking(world.booking_id)
        b = chat.conversation_for_booking(world.booking_id)
        assert a.id == b.id and a.subject_type == "booking" and a.subject_id == world.booking_id


def test_post_read_and_unread_counts(ctx, world):
    with tenant_scope(world.biz.tenant_id):
        conv = chat.conversation_for_booking(world.booking_id)
        customer, staff = _people(world)
        m1 = chat.post_message(conv, customer, "  Hello, can I bring my dog?  ")
        m2 = chat.post_message(conv, customer, "Second question")
        db.session.commit()
        assert m1.body == "Hello, can I bring my dog?" and m2.seq > m1.seq
        me = chat.join_conversation(conv, staff)
        assert chat.unread_count(conv, me) == 2
        assert chat.unread_count(conv, chat.find_participant(conv, customer)) == 0
        assert [m.body for m in chat.messages_since(conv, m1.seq)] == ["Second question"]
        assert chat.receipts(conv, chat.CUSTOMER) == {"delivered": 0, "read": 0}
        chat.mark_delivered(conv, me, m2.seq)
        chat.mark_read(conv, me, m1.seq)
        assert chat.unread_count(conv, me) == 1
        assert chat.receipts(conv, chat.CUSTOMER) == {"delivered": m2.seq, "read": m1.seq}
        chat.mark_read(conv, me, 0)  # never moves back
        assert chat.receipts(conv, chat.CUSTOMER)["read"] == m1.seq
        chat.mark_read(conv, me)
        assert chat.unread_count(conv, me) == 0
        db.session.commit()


@pytest.mark.parametrize("body, error", [("", EmptyMessage), ("   \n\t ", EmptyMessage),
                                         ("x" * 4001, MessageTooLong)])
def test_invalid_messages_are_refused_and_not_stored(ctx, world, body, error):
    with tenant_scope(world.biz.tenant_id):
        conv = chat.conversation_for_booking(world.booking_id)
        customer, _ = _people(world)
        with pytest.raises(error) as exc:
            chat.post_message(conv, customer, body)
        assert exc.value.message
        assert chat.messages_since(conv, 0) == []
        assert len(chat.post_message(conv, customer, "y" * 4000).body) == 4000


def test_rate_limit_per_author(ctx, world):
    with tenant_scope(world.biz.tenant_id):
        conv = chat.conversation_for_booking(world.booking_id)
        customer, staff = _people(world)
        for i in range(chat.RATE_LIMIT):
            chat.post_message(conv, customer, f"m{i}")
        with pytest.raises(RateLimited) as exc:
            chat.post_message(conv, customer, "one too many")
        assert "too fast" in exc.value.message
        chat.post_message(conv, staff, "staff is not limited by the customer's bucket")
        assert db.session.query(Message).count() == chat.RATE_LIMIT + 1


def test_render_body_is_escaped_with_clickable_links():
    html = str(chat.render_body('<script>alert(1)</script> <img src=x onerror=alert(1)> '
                                '<div hx-get="/x" hx-on:click="alert(1)">x</div> see https://example.com/a?b=1&c=2.'))
    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert "&lt;script&gt;" in html and "onerror=alert(1)&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">' in html
    assert str(chat.render_body("javascript:alert(1) line\nbreak")) == "javascript:alert(1) line<br>break"


def test_new_message_writes_an_outbox_event_for_the_notifications(ctx, world):
    import sqlalchemy as sa

    from app.outbox.models import OutboxEvent

    with tenant_scope(world.biz.tenant_id):
        conv = chat.conversation_for_booking(world.booking_id)
        customer, staff = _people(world)
        msg = chat.post_message(conv, customer, "Is the 10:00 still OK?")
        event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.kind == "chat.message_created"))
        assert event.payload["message_id"] == str(msg.id) and event.payload["conversation_id"] == str(conv.id)
        assert event.payload["preview"] == "Is the 10:00 still OK?" and event.payload["sender_name"] == "Cara"
        assert event.payload["recipient_user_ids"] == [str(world.owner_user_id)]  # the owner, before joining
        reply = chat.post_message(conv, staff, "Yes!")
        events = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "chat.message_created")
                                    .order_by(OutboxEvent.created_at)).all()
        assert events[-1].payload["message_id"] == str(reply.id)
        assert events[-1].payload["recipient_user_ids"] == [str(world.customer_user_id)]
