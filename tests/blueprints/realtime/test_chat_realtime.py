# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Real-time chat against running servers, with real ``python-socketio`` clients.

Two web processes (gunicorn, one gthread worker each, Flask-SocketIO threading mode) share
PostgreSQL and Redis; the customer connects on the apex, staff on the business's host.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests
import socketio

from app.extensions import db
from app.identity.service import find_user, set_password
from tests.factories import make_business, make_user
from tests.support.chat_fixtures import (  # noqa: F401
    ChatClient,
    FailoverProxy,
    WebProcess,
    conversation_id,
    free_port,
    make_booking,
    session_cookie,
    web_pair,
    world,
)

pytestmark = pytest.mark.integration


def run(coro):
    """Run one async test body on its own event loop in a thread (the session's Playwright
    browser keeps an event loop running in the main thread)."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


def test_message_sent_through_one_process_reaches_the_other(app, world, web_pair):
    a, b = web_pair
    cid = conversation_id(app, world)
    tid = str(world.biz.tenant_id)

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        staff_tab2 = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await customer.connect(a.url())                    # apex, process A
            await staff.connect(b.url("bella.localhost"))      # business host, process B
            await staff_tab2.connect(a.url("bella.localhost"))  # same person, other tab, process A
            joined_c = await customer.call("join", {"conversation_id": cid, "tenant_id": tid, "last_seq": 0})
            joined_s = await staff.call("join", {"conversation_id": cid, "last_seq": 0})
            assert joined_c["ok"] and joined_c["role"] == "customer"
            assert joined_s["ok"] and joined_s["role"] == "staff"
            assert (await staff_tab2.call("join", {"conversation_id": cid}))["ok"]
            # presence: staff sees the customer online
            await staff.wait_for(lambda: any(joined_c["participant_id"] in p["online"]
                                             for p in staff.events["chat:presence"]))
            # typing indicator
            await customer.call("typing", {"conversation_id": cid, "typing": True})
            typing = await staff.wait_for(lambda: staff.events["chat:typing"])
            assert typing[-1]["typing"] is True and typing[-1]["role"] == "customer"
            assert not customer.events["chat:typing"]  # not echoed to the typist
            # send through A: acknowledged with the stored message
            ack = await customer.call("send", {"conversation_id": cid, "body": "Can I come 10 min early?",
                                               "client_id": "c1"})
            assert ack["ok"] and ack["client_id"] == "c1" and ack["message"]["seq"] > 0
            seq = ack["message"]["seq"]
            await staff.wait_for(lambda: "Can I come 10 min early?" in staff.bodies())
            # "one more unread" pushed to both staff tabs (no count is read on the send path)
            await staff_tab2.wait_for(lambda: any(u.get("delta") == 1 and u["seq"] == seq
                                                  for u in staff_tab2.events["chat:unread"]))
            # delivery ack then read receipt, seen by the customer
            await staff.call("delivered", {"conversation_id": cid, "seq": seq})
            await customer.wait_for(lambda: any(r["staff"]["delivered"] >= seq
                                                for r in customer.events["chat:receipts"]))
            read = await staff.call("read", {"conversation_id": cid, "seq": seq})
            assert read == {"ok": True, "read": seq, "unread": 0}
            await customer.wait_for(lambda: any(r["staff"]["read"] >= seq for r in customer.events["chat:receipts"]))
            # the other tab's badge follows
            await staff_tab2.wait_for(lambda: staff_tab2.events["chat:unread"][-1]["unread"] == 0)
            # reply through B reaches the customer on A
            await staff.call("send", {"conversation_id": cid, "body": "Sure, see you!"})
            await customer.wait_for(lambda: "Sure, see you!" in customer.bodies())
            # presence: the customer leaves, staff sees them offline
            await customer.close()
            await staff.wait_for(lambda: joined_c["participant_id"] not in staff.events["chat:presence"][-1]["online"])
        finally:
            for c in (customer, staff, staff_tab2):
                await c.close()

    run(body())


def test_send_errors_are_acknowledged_and_nothing_is_stored(app, world, web_pair):
    a, _ = web_pair
    cid = conversation_id(app, world)

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        try:
            await customer.connect(a.url())
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": str(world.biz.tenant_id)}))["ok"]
            empty = await customer.call("send", {"conversation_id": cid, "body": "  "})
            assert empty["ok"] is False and empty["code"] == "EmptyMessage"
            big = await customer.call("send", {"conversation_id": cid, "body": "x" * 4001})
            assert big["ok"] is False and big["code"] == "MessageTooLong"
            acks = [await customer.call("send", {"conversation_id": cid, "body": f"m{i}"}) for i in range(21)]
            assert all(x["ok"] for x in acks[:20])
            assert acks[20]["ok"] is False and acks[20]["code"] == "RateLimited" and "too fast" in acks[20]["error"]
            # a fresh join from zero returns exactly the 20 stored
            again = await customer.call("join", {"conversation_id": cid, "tenant_id": str(world.biz.tenant_id),
                                                 "last_seq": 0})
            assert [m["body"] for m in again["messages"]] == [f"m{i}" for i in range(20)]
        finally:
            await customer.close()

    run(body())


def test_refused_connections_and_rooms(app, world, web_pair):
    a, _ = web_pair
    cid = conversation_id(app, world)
    with app.app_context():
        other = make_business("other")
        make_user("mallory@example.test")
        other_booking, _ = make_booking(other.tenant_id, "mallory@example.test",
                                        find_user("mallory@example.test").id)
        db.session.remove()

    async def body():
        # no session
        anon = ChatClient()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await anon.connect(a.url())
        await anon.close()
        # foreign Origin, even with a valid session
        evil = ChatClient(session_cookie(app, world.customer_email), origin="http://evil.test")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await evil.connect(a.url())
        await evil.close()
        # an Origin of another Plaza host than the one connected to
        cross = ChatClient(session_cookie(app, world.customer_email), origin=f"http://other.localhost:{a.port}")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await cross.connect(a.url("bella.localhost"))
        await cross.close()
        # same-origin browser connection is fine
        ok = ChatClient(session_cookie(app, world.customer_email), origin=a.url())
        await ok.connect(a.url())
        await ok.close()

        tid, other_tid = str(world.biz.tenant_id), str(other.tenant_id)
        mallory = ChatClient(session_cookie(app, "mallory@example.test"))
        other_staff = ChatClient(session_cookie(app, other.owner_email))
        customer = ChatClient(session_cookie(app, world.customer_email))
        try:
            await mallory.connect(a.url())
            await other_staff.connect(a.url("other.localhost"))
            await customer.connect(a.url())
            # another person's conversation, named with its right tenant
            assert await mallory.call("join", {"conversation_id": cid, "tenant_id": tid}) == {
                "ok": False, "error": "not_found"}
            # another tenant's conversation under the wrong tenant id
            assert (await mallory.call("join", {"conversation_id": cid, "tenant_id": other_tid}))["ok"] is False
            # staff of another business, on their own host, asking for bella's room (with or without tenant id)
            assert (await other_staff.call("join", {"conversation_id": cid}))["ok"] is False
            assert (await other_staff.call("join", {"conversation_id": cid, "tenant_id": tid}))["ok"] is False
            # sending to a room not joined is refused
            assert (await mallory.call("send", {"conversation_id": cid, "tenant_id": tid, "body": "hi"}))["ok"] is False
            # the rightful customer talks; the refused sockets hear nothing
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": tid}))["ok"]
            assert (await customer.call("send", {"conversation_id": cid, "body": "private"}))["ok"]
            await customer.wait_for(lambda: "private" in customer.bodies())
            # a marker through mallory's own room proves her events are flowing, then check
            mine = conversation_id_for(app, other.tenant_id, other_booking)
            assert (await mallory.call("join", {"conversation_id": mine, "tenant_id": other_tid}))["ok"]
            assert (await mallory.call("send", {"conversation_id": mine, "body": "marker"}))["ok"]
            await mallory.wait_for(lambda: "marker" in mallory.bodies())
            assert mallory.bodies() == ["marker"] and other_staff.bodies() == []
        finally:
            for c in (mallory, other_staff, customer):
                await c.close()

    run(body())


def conversation_id_for(app, tenant_id, booking_id) -> str:
    from app.chat.service import conversation_for_booking
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        conv = conversation_for_booking(booking_id)
        db.session.commit()
        out = str(conv.id)
        db.session.remove()
    return out


def test_logout_and_password_change_close_open_sockets(app, world, web_pair):
    a, b = web_pair

    async def body():
        customer_cookie = session_cookie(app, world.customer_email)
        customer = ChatClient(customer_cookie)
        customer_other_device = ChatClient(session_cookie(app, world.customer_email))
        staff_cookie = session_cookie(app, world.biz.owner_email)
        staff = ChatClient(staff_cookie)
        try:
            await customer.connect(a.url())
            await customer_other_device.connect(b.url())
            await staff.connect(b.url("bella.localhost"))
            # log out through the web (process B) with the customer's session cookie
            from tests.helpers import csrf_from

            page = requests.get(b.url() + "/account/messages", headers={"Cookie": f"session={customer_cookie}"})
            cookie = page.cookies.get("session") or customer_cookie  # now also holds the CSRF secret
            resp = requests.post(b.url() + "/logout", data={"csrf_token": csrf_from(page.text)},
                                 headers={"Cookie": f"session={cookie}"}, allow_redirects=False)
            assert resp.status_code in (302, 303)
            await customer.wait_for(lambda: customer.disconnects >= 1, timeout=5)
            assert customer_other_device.sio.connected  # another login session stays
            # a password change ends every session of that person
            with app.app_context():
                user = find_user(world.biz.owner_email)
                set_password(user, "a-brand-new-password")
                db.session.commit()
                db.session.remove()
            await staff.wait_for(lambda: staff.disconnects >= 1, timeout=5)
            # and neither old session can open a socket again (a replayed cookie included)
            for old_cookie, url in ((customer_cookie, a.url()), (staff_cookie, a.url("bella.localhost"))):
                again = ChatClient(old_cookie)
                with pytest.raises(socketio.exceptions.ConnectionError):
                    await again.connect(url)
                await again.close()
        finally:
            for c in (customer, customer_other_device, staff):
                await c.close()

    run(body())


def test_offline_recipient_gets_messages_on_return_and_long_polling_works(app, world, web_pair):
    a, b = web_pair
    cid = conversation_id(app, world)
    tid = str(world.biz.tenant_id)

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await customer.connect(a.url())
            assert customer.sio.eio.ping_interval == 25  # keepalive announced by the server
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": tid}))["ok"]
            first = await customer.call("send", {"conversation_id": cid, "body": "while you were away 1"})
            await customer.call("send", {"conversation_id": cid, "body": "while you were away 2"})
            # staff comes online later, over long-polling only (WebSockets blocked)
            await staff.connect(b.url("bella.localhost"), transports=["polling"])
            assert staff.sio.transport() == "polling"
            joined = await staff.call("join", {"conversation_id": cid, "last_seq": 0})
            assert [m["body"] for m in joined["messages"]] == ["while you were away 1", "while you were away 2"]
            assert joined["unread"] == 2
            # joining marked them delivered: the customer sees it
            await customer.wait_for(lambda: any(r["staff"]["delivered"] > first["message"]["seq"]
                                                for r in customer.events["chat:receipts"]))
            await customer.call("send", {"conversation_id": cid, "body": "live over polling"})
            await staff.wait_for(lambda: "live over polling" in staff.bodies())
        finally:
            await customer.close()
            await staff.close()

    run(body())


def test_a_client_that_missed_more_than_a_page_gets_every_message(app, world, web_pair):
    """Back after a long time away: the join answers page by page until nothing is missing."""
    import uuid as _uuid

    import sqlalchemy as sa

    from app.chat import service as chat
    from app.chat.models import Message
    from app.tenants.context import tenant_scope

    a, _ = web_pair
    cid = conversation_id(app, world)
    tid = str(world.biz.tenant_id)
    total = chat.JOIN_PAGE + 7
    with app.app_context(), tenant_scope(world.biz.tenant_id):
        conv = chat.get_conversation(_uuid.UUID(cid))
        author = chat.join_conversation(conv, chat.Principal(chat.STAFF, user_id=world.owner_user_id, name="Owner"))
        db.session.execute(sa.insert(Message), [
            {"tenant_id": world.biz.tenant_id, "conversation_id": conv.id, "author_participant_id": author.id,
             "author_role": chat.STAFF, "author_name": "Owner", "body": f"note {i}"} for i in range(total)])
        db.session.commit()
        db.session.remove()

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        try:
            await customer.connect(a.url())
            seen: list[str] = []
            last, pages = 0, 0
            while True:
                joined = await customer.call("join", {"conversation_id": cid, "tenant_id": tid, "last_seq": last})
                assert joined["ok"], joined
                seen += [m["body"] for m in joined["messages"]]
                pages += 1
                if not joined["more"]:
                    break
                last = joined["messages"][-1]["seq"]
            assert pages == 2 and seen == [f"note {i}" for i in range(total)]
        finally:
            await customer.close()

    run(body())


def test_killed_process_clients_reconnect_elsewhere_without_gaps(app, world, services):
    cid = conversation_id(app, world)
    tid = str(world.biz.tenant_id)
    lb_port = free_port()  # the load balancer's port is the public one
    doomed = WebProcess(services, public_port=lb_port)
    survivor = WebProcess(services, public_port=lb_port)

    async def body():
        proxy = FailoverProxy([doomed.port, survivor.port], port=lb_port)
        await proxy.start()
        state = {"last_seq": 0, "missed": [], "joins": 0}
        outage_over = asyncio.Event()
        outage_over.set()

        async def rejoin(client: ChatClient) -> None:
            await outage_over.wait()  # the test decides when the reconnected client re-joins
            ack = await client.call("join", {"conversation_id": cid, "last_seq": state["last_seq"]})
            state["joins"] += 1
            state["missed"].extend(m["body"] for m in ack["messages"])

        staff = ChatClient(session_cookie(app, world.biz.owner_email), reconnection=True, on_connect=rejoin)
        customer = ChatClient(session_cookie(app, world.customer_email))
        try:
            await staff.connect(f"http://bella.localhost:{proxy.port}")  # lands on the doomed process
            await staff.wait_for(lambda: state["joins"] == 1)
            await customer.connect(survivor.url())
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": tid}))["ok"]
            m1 = await customer.call("send", {"conversation_id": cid, "body": "before the crash"})
            await staff.wait_for(lambda: "before the crash" in staff.bodies())
            state["last_seq"] = m1["message"]["seq"]
            outage_over.clear()
            doomed.kill()
            await staff.wait_for(lambda: staff.disconnects >= 1, timeout=30)
            # sent while the staff socket is down
            await customer.call("send", {"conversation_id": cid, "body": "during the outage 1"})
            await customer.call("send", {"conversation_id": cid, "body": "during the outage 2"})
            outage_over.set()
            # the client reconnects by itself (through the proxy, to the survivor) and catches up
            await staff.wait_for(lambda: state["joins"] == 2, timeout=30)
            assert state["missed"] == ["during the outage 1", "during the outage 2"]
            await customer.call("send", {"conversation_id": cid, "body": "after the recovery"})
            await staff.wait_for(lambda: "after the recovery" in staff.bodies())
        finally:
            await staff.close()
            await customer.close()
            await proxy.close()

    try:
        run(body())
    finally:
        doomed.stop()
        survivor.stop()


def test_gevent_worker_processes_chat_too(app, world, services):
    """The README's deploy line (``gunicorn -k gevent -w 1``): WebSocket, long-polling, the
    database (psycopg 3 under monkeypatching) and the Redis queue between two such processes."""
    cid = conversation_id(app, world)
    a = WebProcess(services, worker="gevent")
    b = WebProcess(services, worker="gevent")

    async def body():
        customer = ChatClient(session_cookie(app, world.customer_email))
        staff = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await customer.connect(a.url())
            await staff.connect(b.url("bella.localhost"), transports=["polling"])
            assert (await customer.call("join", {"conversation_id": cid, "tenant_id": str(world.biz.tenant_id)}))["ok"]
            assert (await staff.call("join", {"conversation_id": cid}))["ok"]
            ack = await customer.call("send", {"conversation_id": cid, "body": "served by gevent"})
            assert ack["ok"]
            await staff.wait_for(lambda: "served by gevent" in staff.bodies())
            await staff.call("read", {"conversation_id": cid, "seq": ack["message"]["seq"]})
            await customer.wait_for(lambda: any(r["staff"]["read"] >= ack["message"]["seq"]
                                                for r in customer.events["chat:receipts"]))
        finally:
            await customer.close()
            await staff.close()

    try:
        run(body())
    finally:
        a.stop()
        b.stop()


def test_emit_to_user_from_any_process_reaches_every_tab(app, world, web_pair, services):
    """``app.realtime.emit.emit_to_user`` from a process without a Socket.IO server (here the
    test process, like an RQ worker) reaches every socket of that person on every web process,
    and nobody else's."""
    from app.realtime.emit import emit_to_user

    a, b = web_pair

    async def body():
        tab1 = ChatClient(session_cookie(app, world.customer_email))
        tab2 = ChatClient(session_cookie(app, world.customer_email))
        someone_else = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await tab1.connect(a.url())
            await tab2.connect(b.url())
            await someone_else.connect(b.url("bella.localhost"))
            emit_to_user(world.customer_user_id, "notifications:badge", {"unread": 3},
                         redis_url=services["REDIS_URL"])
            await tab1.wait_for(lambda: tab1.events["notifications:badge"])
            await tab2.wait_for(lambda: tab2.events["notifications:badge"])
            assert tab1.events["notifications:badge"] == [{"unread": 3}] == tab2.events["notifications:badge"]
            emit_to_user(world.owner_user_id, "notifications:badge", {"unread": 1}, redis_url=services["REDIS_URL"])
            await someone_else.wait_for(lambda: someone_else.events["notifications:badge"])
            assert tab1.events["notifications:badge"] == [{"unread": 3}]
        finally:
            for c in (tab1, tab2, someone_else):
                await c.close()

    run(body())


def test_emits_batched_in_one_block_arrive_in_order_once_the_block_ends(app, world, web_pair, services):
    """``app.realtime.emit.batched`` (how a chat message tells the room, the badges and the staff
    in one Redis round trip) holds the block's emits, then every socket on every process gets
    them all, in the order they were made."""
    from app.realtime.emit import batched, emit_to_user

    a, b = web_pair

    async def body():
        tab1 = ChatClient(session_cookie(app, world.customer_email))
        tab2 = ChatClient(session_cookie(app, world.customer_email))
        try:
            await tab1.connect(a.url())
            await tab2.connect(b.url())
            with batched():
                for n in (1, 2, 3):
                    emit_to_user(world.customer_user_id, "notifications:badge", {"unread": n},
                                 redis_url=services["REDIS_URL"])
                await asyncio.sleep(0.5)
                assert not tab1.events["notifications:badge"] and not tab2.events["notifications:badge"]
            await tab1.wait_for(lambda: len(tab1.events["notifications:badge"]) == 3)
            await tab2.wait_for(lambda: len(tab2.events["notifications:badge"]) == 3)
            assert [e["unread"] for e in tab1.events["notifications:badge"]] == [1, 2, 3]
            assert [e["unread"] for e in tab2.events["notifications:badge"]] == [1, 2, 3]
        finally:
            for c in (tab1, tab2):
                await c.close()

    run(body())
