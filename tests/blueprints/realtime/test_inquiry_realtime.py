# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Inquiries are live like booking chat: on the business's host the signed-in customer and the
staff join the inquiry's conversation over Socket.IO and see each other's messages at once;
nobody else may join; a blocked customer's message is refused over the socket too."""

from __future__ import annotations

import pytest

from app.chat import inquiries
from app.community import blocks
from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import tenant_scope
from tests.blueprints.realtime.test_chat_realtime import run
from tests.factories import make_business, make_user
from tests.support.chat_fixtures import ChatClient, chat_server, session_cookie  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def inquiry(app):
    """Bella, Cara's inquiry there (first message posted) and Mallory, another customer."""
    with app.app_context():
        try:
            biz = make_business("bella")
            make_user("cara@example.com", name="Cara")
            make_user("mallory@example.com", name="Mallory")
            cara = find_user("cara@example.com")
            with tenant_scope(biz.tenant_id):
                found, _ = inquiries.start_inquiry("Hi, are you open on Sundays?", user_id=cara.id, name="Cara",
                                                   email=cara.email)
                conv = inquiries.inquiry_conversation(found)
                db.session.commit()
                return biz, str(found.id), str(conv.id)
        finally:
            db.session.remove()


def test_customer_and_staff_talk_live_and_strangers_are_refused(app, inquiry, chat_server):
    biz, inquiry_id, cid = inquiry
    host = chat_server.url("bella.localhost")

    async def body():
        cara = ChatClient(session_cookie(app, "cara@example.com"))
        staff = ChatClient(session_cookie(app, biz.owner_email))
        mallory = ChatClient(session_cookie(app, "mallory@example.com"))
        try:
            for c in (cara, staff, mallory):
                await c.connect(host)
            joined = await cara.call("join", {"conversation_id": cid, "last_seq": 0})
            assert joined["ok"] and joined["role"] == "customer"
            assert [m["body"] for m in joined["messages"]] == ["Hi, are you open on Sundays?"]
            assert (await staff.call("join", {"conversation_id": cid, "last_seq": 0}))["role"] == "staff"
            assert not (await mallory.call("join", {"conversation_id": cid, "last_seq": 0}))["ok"]
            await staff.call("send", {"conversation_id": cid, "body": "Yes, 10 to 16."})
            await cara.wait_for(lambda: "Yes, 10 to 16." in cara.bodies())
            ack = await cara.call("send", {"conversation_id": cid, "body": "Great, thanks"})
            assert ack["ok"]
            await staff.wait_for(lambda: "Great, thanks" in staff.bodies())
            assert "Great, thanks" not in mallory.bodies()
        finally:
            for c in (cara, staff, mallory):
                await c.close()

    run(body())
    with app.app_context(), tenant_scope(biz.tenant_id):
        blocks.block_person(email="cara@example.com")
        db.session.commit()
        db.session.remove()

    async def blocked():
        cara = ChatClient(session_cookie(app, "cara@example.com"))
        try:
            await cara.connect(host)
            assert (await cara.call("join", {"conversation_id": cid, "last_seq": 0}))["ok"]
            ack = await cara.call("send", {"conversation_id": cid, "body": "Let me in"})
            assert not ack["ok"] and "does not accept" in ack["error"]
        finally:
            await cara.close()

    run(blocked())
