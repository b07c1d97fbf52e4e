# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""The socket's one-statement send (app.chat.sending): what it writes, that its conditions are
the guards' (a condition that fails stores nothing), and that the notification fan-out still
finds the recipients from the outbox row it writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.chat import sending
from app.chat import service as chat
from app.chat.errors import ConversationClosed
from app.chat.models import Message
from app.community import blocks
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from tests.support.chat_fixtures import world  # noqa: F401
from tests.support.conftest_mail import run_jobs
from tests.support.notification_support import notifications_of

pytestmark = pytest.mark.integration


def _grant(world, role: str = chat.CUSTOMER) -> sending.SendGrant:
    conv = chat.conversation_for_booking(world.booking_id)
    principal = (chat.Principal(chat.CUSTOMER, user_id=world.customer_user_id, customer_id=world.customer_id,
                                name="Cara") if role == chat.CUSTOMER
                 else chat.Principal(chat.STAFF, user_id=world.owner_user_id, name="Owner"))
    me = chat.join_conversation(conv, principal)
    grant = sending.grant_for(conv, principal, me)
    assert grant is not None
    return grant


def test_one_statement_stores_the_message_moves_watermarks_and_feeds_the_notifications(app, ctx, world, mailbox):
    with tenant_scope(world.biz.tenant_id):
        grant = _grant(world)
        assert grant.recipient_user_ids == (world.owner_user_id,)  # the business's owner, told at once
        db.session.commit()
        sent = sending.post_granted(grant, "Can I bring my dog?")
        db.session.commit()
        assert sent is not None and sent.payload["html"] == "Can I bring my dog?"
        stored = db.session.scalar(sa.select(Message).where(Message.id == sent.id))
        assert (stored.seq, stored.body, stored.author_role) == (sent.seq, "Can I bring my dog?", chat.CUSTOMER)
        me = chat.find_participant(chat.get_conversation(grant.conversation_id), grant.principal)
        assert (me.last_delivered_seq, me.last_read_seq) == (sent.seq, sent.seq)
        event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.kind == "chat.message_created"))
        assert event.payload["seq"] == sent.seq and "recipient_user_ids" not in event.payload
        db.session.remove()
    # the fan-out reads the recipients itself: the owner is notified of the message
    relay_outbox()
    for _ in range(2):
        assert run_jobs(app) == []
    notes = [n for n in notifications_of(world.owner_user_id) if n.type == "new_message"]
    assert len(notes) == 1 and "Can I bring my dog?" in str(notes[0].context)


def test_a_failed_condition_stores_nothing_and_the_guard_explains(ctx, world):
    with tenant_scope(world.biz.tenant_id):
        grant = _grant(world)
        blocks.block_person(user_id=world.customer_user_id)
        db.session.commit()
        assert sending.post_granted(grant, "Let me in") is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
            OutboxEvent.kind == "chat.message_created")) == 0
        conv = chat.get_conversation(grant.conversation_id)
        with pytest.raises(ConversationClosed, match="does not accept"):
            chat.ensure_may_post(conv, grant.principal)
        # staff are never refused by the block
        assert sending.post_granted(_grant(world, chat.STAFF), "We saw it") is not None
        db.session.commit()


def test_a_guard_without_an_sql_form_sends_its_posts_the_full_way(ctx, world):
    def shy_guard(conv, principal):
        return None

    chat.register_post_guard(shy_guard)
    try:
        with tenant_scope(world.biz.tenant_id):
            conv = chat.conversation_for_booking(world.booking_id)
            staff = chat.Principal(chat.STAFF, user_id=world.owner_user_id, name="Owner")
            assert sending.grant_for(conv, staff, chat.join_conversation(conv, staff)) is None
        chat.register_post_guard(shy_guard, applies=lambda subject, role: role == chat.CUSTOMER)
        with tenant_scope(world.biz.tenant_id):
            assert sending.grant_for(conv, staff, chat.join_conversation(conv, staff)) is not None
    finally:
        chat.POST_GUARDS.remove(shy_guard)
        chat.GUARD_FORMS.pop(shy_guard, None)
