"""The chat's client events over Socket.IO.

Every event goes through :func:`app.blueprints.realtime.scope.tenant_event` (actor check,
tenant scope, one unit of work) and answers through the Socket.IO acknowledgement with
``{"ok": bool, …}``; what other sockets are told is sent once the event's work has committed
(:func:`~app.uow.after_commit`).

Client -> server: ``join {conversation_id, tenant_id?, last_seq}`` -> ``{ok, participant_id,
role, messages[], receipts, unread, online[]}``; ``send {conversation_id, body, client_id?}`` ->
``{ok, message}`` or ``{ok: false, error, code}`` (``code`` ``ConversationClosed`` once the
booking's customer may no longer write: the chat domain's one rule, the same as the HTTP form's
409); ``delivered {conversation_id, seq}``; ``read {conversation_id, seq?}``; ``typing
{conversation_id, typing}``; ``leave {conversation_id}``.

Server -> client: ``chat:message`` (message payload), ``chat:receipts``, ``chat:unread``,
``chat:presence {conversation_id, online[]}``, ``chat:typing``, ``chat:activity`` (staff room).

``tenant_id`` in a payload is only read on the platform apex (a customer's account, where
the conversation's business is named by the client and checked); on a business's host the
host decides, and a payload naming another business is refused like a missing room.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import join_room, leave_room

from app.blueprints.realtime import broadcast
from app.blueprints.realtime.scope import SocketRefusal, tenant_event
from app.blueprints.realtime.sockets import REFUSED, Joined, SocketInfo, emit_presence
from app.chat import access, sending
from app.chat import service as chat
from app.chat.errors import ChatError
from app.chat.models import Conversation
from app.extensions import db, socketio
from app.identity.models import User
from app.notifications import center, chat_messages
from app.realtime import presence
from app.realtime.emit import conversation_room
from app.redis_client import get_redis
from app.uow import after_commit
from app.web import parse_uuid


def principal_of(info: SocketInfo, conv: Conversation) -> chat.Principal | None:
    """As whom this socket's actor takes part in ``conv``: a guest only in their booking's
    conversation (as its customer); an account (read now: still there, not suspended, at the
    socket's ``session_version``) as staff or customer (see
    :func:`app.chat.access.conversation_principal`). ``None`` to refuse."""
    if info.guest is not None:
        return access.guest_principal(conv, info.guest)
    user = db.session.get(User, info.user_id) if info.user_id is not None else None
    if user is None or user.suspended_at is not None or user.session_version != info.session_version:
        return None
    return access.conversation_principal(conv, user, as_staff=info.host_tenant_id is not None)


def joined_conversation(info: SocketInfo, payload: dict[str, Any]) -> tuple[Joined, Conversation] | None:
    """The joined conversation a payload names (and its row), or ``None``."""
    j = info.joined.get(str(payload.get("conversation_id")))
    if j is None:
        return None
    conv = chat.get_conversation(j.conversation_id)
    return (j, conv) if conv is not None else None


@socketio.on("join")
@tenant_event
def on_join(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """Join a conversation this person takes part in; answer with what they missed since
    ``last_seq`` (marked delivered; at most :data:`~app.chat.service.JOIN_PAGE`, with ``more``
    true when the client must join again from the last one to get the rest), receipts, their
    unread count and who is online."""
    cid = parse_uuid(data.get("conversation_id"))
    conv = chat.get_conversation(cid) if cid else None
    if conv is None:
        return REFUSED
    principal = principal_of(info, conv)
    if principal is None:
        return REFUSED
    me = chat.join_conversation(conv, principal)
    try:
        last = max(0, int(data.get("last_seq") or 0))
    except (TypeError, ValueError):
        last = 0
    missed = chat.messages_since(conv, last)
    delivered = bool(missed) and chat.mark_delivered(conv, me, missed[-1].seq) > 0
    sid, tenant_id, conversation_id = request.sid, conv.tenant_id, conv.id
    grant = sending.grant_for(conv, principal, me)
    join_room(conversation_room(tenant_id, conversation_id))
    info.joined[str(conversation_id)] = Joined(tenant_id, conversation_id, me.id, principal, grant)
    r = get_redis()
    presence.add(r, tenant_id, conversation_id, me.id, sid)
    answer = {"ok": True, "participant_id": str(me.id), "role": principal.role,
              "messages": [chat.message_payload(m) for m in missed], "more": len(missed) >= chat.JOIN_PAGE,
              "receipts": broadcast.receipts_payload(conv),
              "unread": chat.unread_count(conv, me), "online": sorted(presence.online(r, tenant_id, conversation_id))}
    after_commit(lambda: emit_presence(r, tenant_id, conversation_id))
    if delivered:
        after_commit(lambda: broadcast.receipts_changed(conv))
    return answer


@socketio.on("leave")
@tenant_event
def on_leave(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """Leave a conversation's room."""
    j = info.joined.pop(str(data.get("conversation_id")), None)
    if j is None:
        return REFUSED
    leave_room(conversation_room(j.tenant_id, j.conversation_id))
    r = get_redis()
    presence.remove(r, j.tenant_id, j.conversation_id, j.participant_id, request.sid)
    emit_presence(r, j.tenant_id, j.conversation_id)
    return {"ok": True}


@dataclass(frozen=True)
class ConvView:
    """The conversation's fields read before a commit expires the row."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    subject_type: str
    subject_id: uuid.UUID


@socketio.on("send")
@tenant_event
def on_send(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """Post a message to a joined conversation. The acknowledgement is the delivery ack to
    the sender: ``{ok: true, message, client_id}`` once stored, or the error (nothing stored).

    With the join's :class:`~app.chat.sending.SendGrant` the message is stored in one statement
    (:func:`app.chat.sending.post_granted`) whose conditions re-check, in the database, that the
    author may still write; when they fail, the full checks run (:func:`refused_send`)."""
    j = info.joined.get(str(data.get("conversation_id")))
    if j is None:
        return REFUSED
    client_id = data.get("client_id")
    body = data.get("body") if isinstance(data.get("body"), str) else ""
    try:
        if j.grant is None:
            return send_in_full(info, j, body, client_id)
        text = chat.validate_body(body)
        chat.check_rate(j.principal)
        sent = sending.post_granted(j.grant, text)
        if sent is None:
            return refused_send(info, j, text, client_id)
    except ChatError as exc:
        raise SocketRefusal(error_answer(exc, client_id)) from exc
    grant, payload = j.grant, sent.payload
    after_commit(lambda: broadcast.message_sent(grant, payload))
    return {"ok": True, "message": payload, "client_id": client_id}


def error_answer(exc: ChatError, client_id: Any) -> dict[str, Any]:
    """The acknowledgement of a refused ``send``: ``{ok: false, error, code, client_id}``."""
    return {"ok": False, "error": exc.message, "code": type(exc).__name__, "client_id": client_id}


def send_in_full(info: SocketInfo, j: Joined, body: str, client_id: Any) -> dict[str, Any]:
    """``send`` without a grant: the conversation re-read, :func:`app.chat.service.post_message`
    (every check, then the ORM writes), the room told with fresh unread counts.

    Raises:
        ChatError: the post was refused (nothing stored).
    """
    conv = chat.get_conversation(j.conversation_id)
    if conv is None:
        return REFUSED
    msg = chat.post_message(conv, j.principal, body)
    payload = chat.message_payload(msg)
    conv_view = ConvView(conv.id, conv.tenant_id, conv.subject_type, conv.subject_id)
    after_commit(lambda: broadcast.message_posted(conv_view, payload))  # type: ignore[arg-type]
    return {"ok": True, "message": payload, "client_id": client_id}


def refused_send(info: SocketInfo, j: Joined, text: str, client_id: Any) -> dict[str, Any]:
    """The one-statement send stored nothing: a condition of the grant no longer holds. Work out
    why with the full checks, as a join would: no longer a participant (a staff member removed
    from the business, a conversation gone) -> the socket leaves the room and is refused like a
    missing room; the author may not write (a cancelled booking, a block) -> the refusal's
    sentence. When everything holds again by now, the message is stored the full way.

    Raises:
        ChatError: the post was refused (e.g. ``ConversationClosed``).
    """
    conv = chat.get_conversation(j.conversation_id)
    principal = principal_of(info, conv) if conv is not None else None
    if principal is None or principal.role != j.principal.role:
        info.joined.pop(str(j.conversation_id), None)
        leave_room(conversation_room(j.tenant_id, j.conversation_id))
        return REFUSED
    chat.ensure_may_post(conv, principal)  # raises ConversationClosed with the reason
    msg = chat.store_message(conv, principal, text)
    me = chat.find_participant(conv, principal)
    if me is not None:  # the next message takes the one-statement path again, with a fresh grant
        info.joined[str(conv.id)] = Joined(conv.tenant_id, conv.id, me.id, principal,
                                           sending.grant_for(conv, principal, me))
    payload = chat.message_payload(msg)
    conv_view = ConvView(conv.id, conv.tenant_id, conv.subject_type, conv.subject_id)
    after_commit(lambda: broadcast.message_posted(conv_view, payload))  # type: ignore[arg-type]
    return {"ok": True, "message": payload, "client_id": client_id}


def seq_of(data: dict[str, Any]) -> int | None:
    """The payload's ``seq`` as an int, or ``None`` when absent or not a number."""
    try:
        return int(data["seq"]) if data.get("seq") is not None else None
    except (TypeError, ValueError):
        return None


@socketio.on("delivered")
@tenant_event
def on_delivered(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """The client received messages up to ``seq``: move the delivered watermark, tell the room."""
    found = joined_conversation(info, data)
    seq = seq_of(data)
    if found is None or seq is None:
        return REFUSED
    j, conv = found
    me = chat.find_participant(conv, j.principal)
    before = me.last_delivered_seq
    after = chat.mark_delivered(conv, me, seq)
    if after != before:
        after_commit(lambda: broadcast.receipts_changed(conv))
    return {"ok": True, "delivered": after}


@socketio.on("read")
@tenant_event
def on_read(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """The person read up to ``seq`` (default: everything): receipts to the room, the new
    unread count to every tab and device of theirs; once nothing is left unread, their
    new-message notifications about the conversation are marked read and their
    notification badge pushed."""
    found = joined_conversation(info, data)
    if found is None:
        return REFUSED
    j, conv = found
    me = chat.find_participant(conv, j.principal)
    before = me.last_read_seq
    after = chat.mark_read(conv, me, seq_of(data))
    unread = chat.unread_count(conv, me)
    notes_read = unread == 0 and chat_messages.read_conversation_notifications(conv, j.principal)
    if after != before:
        after_commit(lambda: broadcast.receipts_changed(conv))
    after_commit(lambda: broadcast.unread_changed(conv, me))
    if notes_read and j.principal.user_id is not None:
        user_id = j.principal.user_id
        after_commit(lambda: center.push_badge(user_id))
    return {"ok": True, "read": after, "unread": unread}


@socketio.on("typing")
@tenant_event
def on_typing(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """Tell the others in the conversation that this person is (or stopped) typing."""
    j = info.joined.get(str(data.get("conversation_id")))
    if j is None:
        return REFUSED
    socketio.emit("chat:typing", {"conversation_id": str(j.conversation_id), "participant_id": str(j.participant_id),
                                  "name": j.principal.name, "role": j.principal.role,
                                  "typing": bool(data.get("typing"))},
                  to=conversation_room(j.tenant_id, j.conversation_id), skip_sid=request.sid)
    return {"ok": True}
