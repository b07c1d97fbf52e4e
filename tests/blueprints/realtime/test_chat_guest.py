# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Live chat for guests: the customer of a booking without an account, on its manage-link
page, authorised by the manage token in the Socket.IO ``auth`` payload. Real web processes
(gunicorn, one gthread worker each) and real ``python-socketio`` clients; the staff member
connects on the business's host with a session cookie."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
import socketio
import sqlalchemy as sa

from app.booking.models import Booking
from app.chat.models import Message
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.blueprints.realtime.test_chat_realtime import conversation_id_for, run
from tests.factories import make_business
from tests.support.chat_fixtures import (  # noqa: F401
    ChatClient,
    conversation_id,
    make_booking,
    session_cookie,
    web_pair,
    world,
)

pytestmark = pytest.mark.integration

GUEST_EMAIL = "gus@example.test"


@dataclass
class Guest:
    """A guest booking (no account) at a business: its ids, manage token and conversation id."""

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    token: str
    conversation_id: str


def make_guest(app, tenant_id: uuid.UUID, email: str = GUEST_EMAIL, *, hour: int = 12, name: str = "Gus Guest"
               ) -> Guest:
    """A committed booking by a guest (no account) with its manage token and conversation."""
    from app.booking.service import manage_token

    with app.app_context():
        booking_id, _ = make_booking(tenant_id, email, None, hour=hour, name=name)
        with tenant_scope(tenant_id):
            token = manage_token(db.session.scalar(sa.select(Booking).where(Booking.id == booking_id)))
        db.session.remove()
    return Guest(tenant_id, booking_id, token, conversation_id_for(app, tenant_id, booking_id))


def cancel(app, guest: Guest) -> None:
    """Cancel the guest's booking as they would through the manage page."""
    from app.booking.service import cancel_by_customer
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope(guest.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == guest.booking_id))
        cancel_by_customer(db.session.get(Tenant, guest.tenant_id), booking, "changed plans")
        db.session.commit()
        db.session.remove()


async def connect_guest(client: ChatClient, url: str, token: object, transports: list[str] | None = None) -> None:
    """Connect ``client`` as a guest: the token travels in the Socket.IO ``auth`` payload."""
    await client.sio.connect(url, headers=client.headers, auth={"manage_token": token},
                             transports=transports or ["websocket"], wait_timeout=5)


def stored(app, tenant_id: uuid.UUID, cid: str) -> list[tuple[str, str]]:
    """``(author_role, body)`` of the stored messages of a conversation, oldest first."""
    with app.app_context(), tenant_scope(tenant_id):
        try:
            return [(r, b) for r, b in db.session.execute(
                sa.select(Message.author_role, Message.body).where(Message.conversation_id == uuid.UUID(cid))
                .order_by(Message.seq))]
        finally:
            db.session.remove()


def test_guest_chats_live_with_staff(app, world, web_pair):
    """Staff -> guest and guest -> staff live (across two processes), typing, read receipts,
    validation and the per-guest rate limit, and a re-join that returns exactly what was missed."""
    a, b = web_pair
    guest = make_guest(app, world.biz.tenant_id)
    host = "bella.localhost"

    async def body():
        g = ChatClient()
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await connect_guest(g, a.url(host), guest.token)
            await staff.connect(b.url(host))
            joined_g = await g.call("join", {"conversation_id": guest.conversation_id, "last_seq": 0})
            assert joined_g["ok"] and joined_g["role"] == "customer" and joined_g["messages"] == []
            assert (await staff.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            await staff.wait_for(lambda: any(joined_g["participant_id"] in p["online"]
                                             for p in staff.events["chat:presence"]))

            sent = await staff.call("send", {"conversation_id": guest.conversation_id, "body": "Hi Gus!"})
            assert sent["ok"]
            await g.wait_for(lambda: "Hi Gus!" in g.bodies())
            await g.call("read", {"conversation_id": guest.conversation_id, "seq": sent["message"]["seq"]})
            await staff.wait_for(lambda: any(r["customer"]["read"] >= sent["message"]["seq"]
                                             for r in staff.events["chat:receipts"]))

            assert (await g.call("typing", {"conversation_id": guest.conversation_id, "typing": True}))["ok"]
            await staff.wait_for(lambda: any(t["typing"] and t["name"] == "Gus Guest" and t["role"] == "customer"
                                             for t in staff.events["chat:typing"]))
            reply = await g.call("send", {"conversation_id": guest.conversation_id, "body": "Is there parking?"})
            assert reply["ok"] and reply["message"]["author_role"] == "customer"
            assert reply["message"]["author_name"] == "Gus Guest"
            await staff.wait_for(lambda: "Is there parking?" in staff.bodies())
            # staff-room and user-room traffic never reaches the guest
            assert staff.events["chat:activity"] and not g.events["chat:activity"] and not g.events["chat:unread"]

            # offline: the guest's socket goes away, staff writes, a new socket catches up from last seq
            last = reply["message"]["seq"]
            await g.close()
            for text in ("While you were away 1", "While you were away 2"):
                assert (await staff.call("send", {"conversation_id": guest.conversation_id, "body": text}))["ok"]
            g = ChatClient()
            await connect_guest(g, b.url(host), guest.token, transports=["polling"])
            again = await g.call("join", {"conversation_id": guest.conversation_id, "last_seq": last})
            assert [m["body"] for m in again["messages"]] == ["While you were away 1", "While you were away 2"]
            await staff.wait_for(lambda: any(r["customer"]["delivered"] > last for r in staff.events["chat:receipts"]))

            # the same validation as everyone: empty, too long, then the rate limit per guest
            empty = await g.call("send", {"conversation_id": guest.conversation_id, "body": "   "})
            assert empty["ok"] is False and empty["code"] == "EmptyMessage"
            big = await g.call("send", {"conversation_id": guest.conversation_id, "body": "x" * 4001})
            assert big["ok"] is False and big["code"] == "MessageTooLong"
            acks = [await g.call("send", {"conversation_id": guest.conversation_id, "body": f"m{i}"})
                    for i in range(21)]
            # one message already counted in this window at most (the reply above may be in it)
            assert acks[-1]["ok"] is False and acks[-1]["code"] == "RateLimited"
            # the staff member is not limited by the guest's bucket
            assert (await staff.call("send", {"conversation_id": guest.conversation_id, "body": "still here"}))["ok"]
        finally:
            await g.close()
            await staff.close()

    run(body())
    roles = [r for r, _ in stored(app, guest.tenant_id, guest.conversation_id)]
    assert roles[:2] == ["staff", "customer"] and roles[-1] == "staff"


def test_guest_sockets_are_refused_outside_their_booking(app, world, web_pair):
    """Bad, foreign, cancelled or missing credentials are refused at connect; a connected
    guest can join only their booking's conversation, and hears nothing of the others."""
    a, _ = web_pair
    host = a.url("bella.localhost")
    guest = make_guest(app, world.biz.tenant_id)
    neighbour = make_guest(app, world.biz.tenant_id, "nina@example.test", hour=14, name="Nina")
    gone = make_guest(app, world.biz.tenant_id, "cal@example.test", hour=15, name="Cal")
    cancel(app, gone)
    with app.app_context():
        other = make_business("other")
        db.session.remove()
    foreign = make_guest(app, other.tenant_id, "fay@example.test")
    account_cid = conversation_id(app, world)  # the account customer's conversation at bella
    # well-formed tokens for bella's booking: signed with another key; made for another purpose
    from itsdangerous import URLSafeTimedSerializer

    data = {"t": str(guest.tenant_id), "b": str(guest.booking_id)}
    forged = URLSafeTimedSerializer("not-the-secret-key", salt="manage-booking").dumps(data)
    with app.app_context():
        from app.identity.service import make_token

        wrong_purpose = make_token("reset-password", data)

    async def refused(url: str, token: object = None, *, origin: str | None = None, query: str = "") -> None:
        c = ChatClient(origin=origin)
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                if token is None:
                    await c.connect(url + query)
                else:
                    await connect_guest(c, url + query, token)
        finally:
            await c.close()

    async def body():
        await refused(host)                                       # no token, no session
        await refused(host, query=f"/?manage_token={guest.token}")  # a token in the URL is not a credential
        await refused(host, "not-a-token")
        await refused(host, forged)
        await refused(host, wrong_purpose)
        await refused(host, "")
        await refused(host, 12345)
        await refused(host, gone.token)                           # cancelled booking
        await refused(host, foreign.token)                        # another business's booking on bella's host
        await refused(a.url(), guest.token)                       # the apex names no business
        await refused(host, guest.token, origin="http://evil.test")
        await refused(host, guest.token, origin=f"http://other.localhost:{a.port}")

        g = ChatClient(origin=host)
        n = ChatClient()
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await connect_guest(g, host, guest.token)
            await connect_guest(n, host, neighbour.token)
            await staff.connect(host)
            tid, other_tid = str(world.biz.tenant_id), str(other.tenant_id)
            # another booking's conversation at the same business (by id, with or without tenant)
            for cid in (neighbour.conversation_id, account_cid, foreign.conversation_id):
                assert await g.call("join", {"conversation_id": cid}) == {"ok": False, "error": "not_found"}
                assert (await g.call("join", {"conversation_id": cid, "tenant_id": tid}))["ok"] is False
            # the foreign token is good on its own business's host, and still only for its own room
            f = ChatClient()
            try:
                await connect_guest(f, a.url("other.localhost"), foreign.token)
                assert (await f.call("join", {"conversation_id": guest.conversation_id, "tenant_id": tid}))[
                    "ok"] is False
                assert (await f.call("join", {"conversation_id": guest.conversation_id}))["ok"] is False
                assert (await f.call("join", {"conversation_id": foreign.conversation_id}))["ok"]
            finally:
                await f.close()
            # their own conversation named under another business
            assert (await g.call("join", {"conversation_id": guest.conversation_id, "tenant_id": other_tid}))[
                "ok"] is False
            assert (await g.call("join", {"conversation_id": "not-a-uuid"}))["ok"] is False
            # sending to, typing in or reading a room not joined
            for event, extra in (("send", {"body": "hi"}), ("typing", {"typing": True}), ("read", {"seq": 1})):
                assert (await g.call(event, {"conversation_id": neighbour.conversation_id, **extra}))["ok"] is False
            # the rightful rooms work, and nothing crosses between them
            assert (await g.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            assert (await n.call("join", {"conversation_id": neighbour.conversation_id}))["ok"]
            assert (await staff.call("join", {"conversation_id": neighbour.conversation_id}))["ok"]
            assert (await staff.call("send", {"conversation_id": neighbour.conversation_id, "body": "for Nina"}))["ok"]
            assert (await n.call("send", {"conversation_id": neighbour.conversation_id, "body": "Nina here"}))["ok"]
            assert (await staff.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            assert (await staff.call("send", {"conversation_id": guest.conversation_id, "body": "for Gus"}))["ok"]
            await g.wait_for(lambda: "for Gus" in g.bodies())
            await n.wait_for(lambda: "Nina here" in n.bodies())
            assert g.bodies() == ["for Gus"] and set(n.bodies()) == {"for Nina", "Nina here"}
            assert not g.events["chat:activity"] and not g.events["chat:unread"]
            # a user room: emits to the owner's account reach staff, not a guest
            from app.realtime.emit import emit_to_user

            emit_to_user(world.owner_user_id, "notifications:badge", {"unread": 1}, redis_url=app.config["REDIS_URL"])
            await staff.wait_for(lambda: staff.events["notifications:badge"])
            assert not g.events["notifications:badge"] and not n.events["notifications:badge"]

            # the booking is cancelled while the guest is connected: access ends
            cancel(app, neighbour)
            await n.wait_for(lambda: n.disconnects >= 1, timeout=10)  # the watchdog closes the socket
            await refused(host, neighbour.token)
            assert stored(app, neighbour.tenant_id, neighbour.conversation_id) == [
                ("staff", "for Nina"), ("customer", "Nina here")]
        finally:
            for c in (g, n, staff):
                await c.close()

    run(body())


def test_a_cancelled_guest_event_is_refused_before_the_watchdog(app, world, web_pair):
    """Between watchdog sweeps, the next event of a cancelled booking's guest answers
    ``unauthorized`` and nothing is stored."""
    a, _ = web_pair
    guest = make_guest(app, world.biz.tenant_id)

    async def body():
        g = ChatClient()
        try:
            await connect_guest(g, a.url("bella.localhost"), guest.token)
            assert (await g.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            cancel(app, guest)
            ack = await g.call("send", {"conversation_id": guest.conversation_id, "body": "too late"})
            assert ack["ok"] is False and ack["error"] == "unauthorized"
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError):
            pass  # the watchdog closed the socket first: also refused
        finally:
            await g.close()

    run(body())
    assert stored(app, guest.tenant_id, guest.conversation_id) == []


def test_hostile_guest_message_is_stored_as_text_and_sent_inert(app, world, web_pair):
    a, b = web_pair
    guest = make_guest(app, world.biz.tenant_id)
    hostile = ('<script>window.pwned=1</script><img src=x onerror="window.pwned=1"> '
               '<b hx-get="/" hx-trigger="load">x</b> javascript:alert(1) see https://example.com/a')

    async def body():
        g = ChatClient()
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await connect_guest(g, a.url("bella.localhost"), guest.token)
            await staff.connect(b.url("bella.localhost"))
            assert (await g.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            assert (await staff.call("join", {"conversation_id": guest.conversation_id}))["ok"]
            ack = await g.call("send", {"conversation_id": guest.conversation_id, "body": hostile})
            assert ack["ok"]
            await staff.wait_for(lambda: staff.events["chat:message"])
            html = staff.events["chat:message"][0]["html"]
            assert staff.events["chat:message"][0]["body"] == hostile
            assert set(re.findall(r"<\s*/?\s*([a-zA-Z]+)", html)) == {"a"}  # only the link is markup
            assert "&lt;script&gt;" in html
            assert '<a href="https://example.com/a" rel="nofollow noopener noreferrer">' in html
        finally:
            await g.close()
            await staff.close()

    run(body())
    assert stored(app, guest.tenant_id, guest.conversation_id) == [("customer", hostile)]


def test_manage_chat_page_goes_live_for_guests_only_while_the_booking_is_open(app, world):
    """The page hands the token to ``chat.js`` (a data attribute, for the ``auth`` payload);
    a cancelled booking's page still shows the conversation, without live updates and
    without the form (its customer may no longer write: see ``test_app_isolation``)."""
    guest = make_guest(app, world.biz.tenant_id)
    client = app.test_client()
    page = client.get(f"/manage/{guest.token}/chat", base_url="http://bella.localhost")
    assert page.status_code == 200
    assert f'data-manage-token="{guest.token}"' in page.text and "js/chat.js" in page.text
    cancel(app, guest)
    page = client.get(f"/manage/{guest.token}/chat", base_url="http://bella.localhost")
    assert page.status_code == 200 and "data-manage-token" not in page.text and "js/chat.js" not in page.text
    assert "conversation is closed" in page.text and 'id="chat-form"' not in page.text
