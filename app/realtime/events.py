"""Socket.IO event handlers: authentication, tenant scope, rooms, messages, receipts,
presence, typing, and the watchdog that closes sockets of ended sessions.

A socket acts for one *actor*: a logged-in account (authenticated from the session), or the
guest of one booking (no account: the booking's manage token in the Socket.IO ``auth``
payload, ``{"manage_token": "<token>"}``, never in the URL). A guest socket is accepted only
on the booking's business host, joins no user or staff room, and may join only that
booking's conversation; everything else answers like a missing room.

Every client event goes through :func:`tenant_event`, which re-checks the actor (Flask-Login
reloads a user from the socket's server-side session on every event, so a logout, an ended
session, a changed password or a suspension ends access at once; a guest's booking is
re-read, so a cancellation or the expiry of its manage link ends it), puts the tenant in
scope and cleans the DB session.

Client -> server (each answers through the Socket.IO acknowledgement with ``{"ok": bool, …}``):
``join {conversation_id, tenant_id?, last_seq}`` -> ``{ok, participant_id, role, messages[],
receipts, unread, online[]}``; ``send {conversation_id, body, client_id?}`` -> ``{ok, message}``
or ``{ok: false, error, code}`` (``code`` ``ConversationClosed`` once the booking's customer may
no longer write: the chat domain's one rule, the same as the HTTP form's 409); ``delivered {conversation_id, seq}``; ``read {conversation_id,
seq?}``; ``typing {conversation_id, typing}``; ``leave {conversation_id}``.

Server -> client: ``chat:message`` (message payload), ``chat:receipts``, ``chat:unread``,
``chat:presence {conversation_id, online[]}``, ``chat:typing``, ``chat:activity`` (staff room).

``tenant_id`` in a payload is only read on the platform apex (a customer's account, where
the conversation's business is named by the client and checked); on a business's host the
host decides, and a payload naming another business is refused like a missing room.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, join_room, leave_room

from app.chat import access
from app.chat import service as chat
from app.chat.errors import ChatError
from app.extensions import db, socketio
from app.identity import sessions as login_sessions
from app.identity.models import User
from app.notifications import center
from app.realtime import broadcast, presence
from app.realtime.emit import conversation_room, staff_room, user_room
from app.realtime.server import origin_allowed
from app.redis_client import get_redis
from app.tenants.context import reset_tenant, set_tenant, tenant_scope
from app.tenants.errors import TenantNotFound
from app.tenants.models import Tenant
from app.tenants.resolve import resolve_host
from app.tenants.roles import hand_over_to_tenant_role
from app.web import parse_uuid

log = logging.getLogger("plaza.realtime")

#: Seconds between two watchdog sweeps (sockets of ended sessions close within ~2 sweeps).
SWEEP_SECONDS = 1.5
REFUSED = {"ok": False, "error": "not_found"}
UNAUTHORIZED = {"ok": False, "error": "unauthorized"}


@dataclass
class Joined:
    """A conversation this socket joined, as whom."""

    tenant_id: uuid.UUID
    conversation_id: uuid.UUID
    participant_id: uuid.UUID
    principal: chat.Principal


@dataclass
class SocketInfo:
    """What this process knows about one of its sockets, and for which actor: an account
    (``user_id``, ``session_version``, ``session_id``: the server-side login session it was
    opened from) or, when ``guest`` is set, the guest of one booking (``user_id`` ``None``)."""

    user_id: uuid.UUID | None
    session_version: int
    host_tenant_id: uuid.UUID | None
    session_id: str | None
    connected_at: float
    joined: dict[str, Joined] = field(default_factory=dict)
    guest: access.BookingGuest | None = None


_sockets: dict[str, SocketInfo] = {}
_lock = threading.Lock()
_watchdog: dict[str, Any] = {}


def local_sockets() -> dict[str, SocketInfo]:
    """Snapshot of this process's sockets (sid -> info)."""
    with _lock:
        return dict(_sockets)


# --------------------------------------------------------------------------- connect


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Check the Origin, resolve the host, then authenticate the actor: with
    ``auth = {"manage_token": …}`` the guest of that booking (see :func:`_guest_socket`; no
    rooms yet), else the session's user (Flask-Login), who joins their user room (and the
    staff room on a business's host where they are staff).

    Raises:
        ConnectionRefusedError: foreign Origin, unknown host, no (valid) session, or a manage
            token that is invalid, of another business, or of a cancelled booking.
    """
    try:
        if not origin_allowed(request.headers.get("Origin"), request.environ):
            raise ConnectionRefusedError("origin not allowed")
        try:
            target = resolve_host(request.host)  # the HTTP rule: no IP literals, no foreign port
        except TenantNotFound:
            raise ConnectionRefusedError("unknown host") from None
        if target.tenant is not None and target.tenant.suspended_at is not None:
            raise ConnectionRefusedError("unknown host")
        if isinstance(auth, dict) and "manage_token" in auth:
            guest_info = _guest_socket(auth.get("manage_token"), target.tenant.id if target.tenant else None)
            with _lock:
                _sockets[request.sid] = guest_info
            _ensure_watchdog()
            return
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        if not login_sessions.live_flags([(current_user.id, session.sid)])[0]:
            raise ConnectionRefusedError("unauthorized")  # a session ended elsewhere
        host_tid = target.tenant.id if target.tenant else None
        info = SocketInfo(user_id=current_user.id, session_version=current_user.session_version,
                          host_tenant_id=host_tid, session_id=session.sid, connected_at=time.time())
        staff = False
        if host_tid is not None:
            token = set_tenant(host_tid)
            try:
                hand_over_to_tenant_role()
                staff = access.is_staff(current_user.id)
            finally:
                db.session.remove()
                reset_tenant(token)
        with _lock:
            _sockets[request.sid] = info
        join_room(user_room(info.user_id))
        if staff:
            join_room(staff_room(host_tid))
        _ensure_watchdog()
    finally:
        db.session.remove()


def _guest_socket(token: Any, host_tid: uuid.UUID | None) -> SocketInfo:
    """The socket of the guest a manage ``token`` authorises on the host of ``host_tid`` (the
    same lookup as the manage page, in that tenant's scope).

    Raises:
        ConnectionRefusedError: on the apex, or the token is not valid for a booking of this
            business that is still open to chat.
    """
    if host_tid is None:
        raise ConnectionRefusedError("unauthorized")
    scope = set_tenant(host_tid)
    try:
        hand_over_to_tenant_role()
        guest = access.guest_from_token(token)
    finally:
        db.session.remove()
        reset_tenant(scope)
    if guest is None:
        raise ConnectionRefusedError("unauthorized")
    return SocketInfo(user_id=None, session_version=0, host_tenant_id=host_tid, session_id=None,
                      connected_at=time.time(), guest=guest)


@socketio.on("disconnect")
def on_disconnect(*_: Any) -> None:
    """Forget the socket; tell its conversations when its person went offline."""
    with _lock:
        info = _sockets.pop(request.sid, None)
    if info is None:
        return
    try:
        r = get_redis()
        for j in info.joined.values():
            presence.remove(r, j.tenant_id, j.conversation_id, j.participant_id, request.sid)
            _emit_presence(r, j.tenant_id, j.conversation_id)
    except Exception:  # noqa: BLE001
        log.warning("presence cleanup failed", exc_info=True)


# --------------------------------------------------------------------------- scope


def tenant_event(handler: Callable[[SocketInfo, dict[str, Any]], Any]) -> Callable[..., Any]:
    """Wrap a client event: the socket must be known and its actor still valid (the same
    logged-in user; for a guest, their booking still open to chat — else it is disconnected),
    the payload a dict; the tenant (host's, or on the apex the payload's ``tenant_id``) is put
    in scope for the handler and the DB session cleaned after."""

    @functools.wraps(handler)
    def wrapped(data: Any = None, *_: Any) -> Any:
        info = _sockets.get(request.sid)
        if info is None or (info.guest is None and (
                not current_user.is_authenticated or current_user.id != info.user_id
                or session.sid != info.session_id)):
            disconnect()
            return UNAUTHORIZED
        payload = data if isinstance(data, dict) else {}
        tid = _tenant_for(info, payload)
        if tid is None:
            db.session.remove()
            return REFUSED
        token = set_tenant(tid)
        try:
            hand_over_to_tenant_role()  # the business's events run on the tenant database role
            if info.guest is not None and (tid != info.guest.tenant_id or access.guest_booking(info.guest) is None):
                disconnect()
                return UNAUTHORIZED
            return handler(info, payload)
        except Exception:  # noqa: BLE001 - a failing handler answers, never kills the socket
            db.session.rollback()
            log.exception("socket handler failed", extra={"event": handler.__name__})
            return {"ok": False, "error": "server_error"}
        finally:
            db.session.remove()
            reset_tenant(token)

    return wrapped


def _tenant_for(info: SocketInfo, payload: dict[str, Any]) -> uuid.UUID | None:
    """The tenant an event acts in, or ``None`` to refuse: a joined conversation's tenant,
    else the host's, else (apex) the payload's ``tenant_id``."""
    asked = parse_uuid(payload.get("tenant_id")) if payload.get("tenant_id") else None
    joined = info.joined.get(str(payload.get("conversation_id")))
    if joined is not None:
        return joined.tenant_id if asked in (None, joined.tenant_id) else None
    if info.host_tenant_id is not None:
        if asked is not None and asked != info.host_tenant_id:
            return None
        return info.host_tenant_id
    if asked is None:
        return None
    tenant = db.session.get(Tenant, asked)
    if tenant is None or tenant.suspended_at is not None:
        return None
    return tenant.id


def _principal(info: SocketInfo, conv: Any) -> chat.Principal | None:
    """As whom this socket's actor takes part in ``conv``: a guest only in their booking's
    conversation (as its customer); a user as staff or customer (see
    :func:`app.chat.access.conversation_principal`). ``None`` to refuse."""
    if info.guest is not None:
        return access.guest_principal(conv, info.guest)
    return access.conversation_principal(conv, current_user, as_staff=info.host_tenant_id is not None)


def _joined(info: SocketInfo, payload: dict[str, Any]) -> tuple[Joined, Any] | None:
    """The joined conversation a payload names (and its row), or ``None``."""
    j = info.joined.get(str(payload.get("conversation_id")))
    if j is None:
        return None
    conv = chat.get_conversation(j.conversation_id)
    return (j, conv) if conv is not None else None


def _emit_presence(r: Any, tenant_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
    socketio.emit("chat:presence", {"conversation_id": str(conversation_id),
                                    "online": sorted(presence.online(r, tenant_id, conversation_id))},
                  to=conversation_room(tenant_id, conversation_id))


# --------------------------------------------------------------------------- events


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
    principal = _principal(info, conv)
    if principal is None:
        return REFUSED
    me = chat.join_conversation(conv, principal)
    try:
        last = max(0, int(data.get("last_seq") or 0))
    except (TypeError, ValueError):
        last = 0
    missed = chat.messages_since(conv, last)
    delivered = bool(missed) and chat.mark_delivered(conv, me, missed[-1].seq) > 0
    db.session.commit()
    room = conversation_room(conv.tenant_id, conv.id)
    join_room(room)
    info.joined[str(conv.id)] = Joined(conv.tenant_id, conv.id, me.id, principal)
    r = get_redis()
    presence.add(r, conv.tenant_id, conv.id, me.id, request.sid)
    _emit_presence(r, conv.tenant_id, conv.id)
    if delivered:
        broadcast.receipts_changed(conv)
    return {"ok": True, "participant_id": str(me.id), "role": principal.role,
            "messages": [chat.message_payload(m) for m in missed], "more": len(missed) >= chat.JOIN_PAGE,
            "receipts": broadcast.receipts_payload(conv),
            "unread": chat.unread_count(conv, me), "online": sorted(presence.online(r, conv.tenant_id, conv.id))}


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
    _emit_presence(r, j.tenant_id, j.conversation_id)
    return {"ok": True}


@socketio.on("send")
@tenant_event
def on_send(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """Post a message to a joined conversation. The acknowledgement is the delivery ack to
    the sender: ``{ok: true, message, client_id}`` once stored, or the error (nothing stored)."""
    found = _joined(info, data)
    if found is None:
        return REFUSED
    j, conv = found
    try:
        msg = chat.post_message(conv, j.principal, data.get("body") if isinstance(data.get("body"), str) else "")
    except ChatError as exc:
        db.session.rollback()
        return {"ok": False, "error": exc.message, "code": type(exc).__name__, "client_id": data.get("client_id")}
    payload = chat.message_payload(msg)
    conv_view = _ConvView(conv.id, conv.tenant_id, conv.subject_type, conv.subject_id)
    db.session.commit()
    broadcast.message_posted(conv_view, payload)  # type: ignore[arg-type]
    return {"ok": True, "message": payload, "client_id": data.get("client_id")}


@dataclass(frozen=True)
class _ConvView:
    """The conversation's fields read before a commit expires the row."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    subject_type: str
    subject_id: uuid.UUID


def _seq(data: dict[str, Any]) -> int | None:
    try:
        return int(data["seq"]) if data.get("seq") is not None else None
    except (TypeError, ValueError):
        return None


@socketio.on("delivered")
@tenant_event
def on_delivered(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """The client received messages up to ``seq``: move the delivered watermark, tell the room."""
    found = _joined(info, data)
    seq = _seq(data)
    if found is None or seq is None:
        return REFUSED
    j, conv = found
    me = chat.find_participant(conv, j.principal)
    before = me.last_delivered_seq
    after = chat.mark_delivered(conv, me, seq)
    db.session.commit()
    if after != before:
        broadcast.receipts_changed(conv)
    return {"ok": True, "delivered": after}


@socketio.on("read")
@tenant_event
def on_read(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """The person read up to ``seq`` (default: everything): receipts to the room, the new
    unread count to every tab and device of theirs; once nothing is left unread, their
    new-message notifications about the conversation are marked read and their
    notification badge pushed."""
    found = _joined(info, data)
    if found is None:
        return REFUSED
    j, conv = found
    me = chat.find_participant(conv, j.principal)
    before = me.last_read_seq
    after = chat.mark_read(conv, me, _seq(data))
    notes_read = chat.unread_count(conv, me) == 0 and chat.read_notifications(conv, j.principal)
    db.session.commit()
    if after != before:
        broadcast.receipts_changed(conv)
    broadcast.unread_changed(conv, me)
    if notes_read and j.principal.user_id is not None:
        center.push_badge(j.principal.user_id)
    return {"ok": True, "read": after, "unread": chat.unread_count(conv, me)}


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


# --------------------------------------------------------------------------- watchdog


def _ensure_watchdog() -> None:
    with _lock:
        if _watchdog.get("started"):
            return
        _watchdog["started"] = True
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_watch, app)


def _watch(app: Any) -> None:
    """Every :data:`SWEEP_SECONDS`: refresh this process's presence heartbeat and close
    sockets whose session ended (logout, password change, suspension)."""
    while True:
        socketio.sleep(SWEEP_SECONDS)
        with app.app_context():
            try:
                sweep()
            except Exception:  # noqa: BLE001 - keep watching
                log.warning("realtime sweep failed", exc_info=True)
            finally:
                db.session.remove()


def stale_sockets(snapshot: dict[str, SocketInfo]) -> list[str]:
    """Sids in ``snapshot`` whose session ended: user gone, suspended or with a newer
    ``session_version``, or their server-side login session ended (logout, "end session",
    expiry; see :func:`app.identity.sessions.live_flags`); a guest's booking cancelled or gone."""
    guests = {sid: i for sid, i in snapshot.items() if i.guest is not None}
    users = {sid: i for sid, i in snapshot.items() if i.guest is None}
    return _stale_users(users) + _stale_guests(guests)


def _stale_guests(snapshot: dict[str, SocketInfo]) -> list[str]:
    """Guest sids whose booking may no longer chat (one query per business)."""
    by_tenant: dict[uuid.UUID, list[str]] = {}
    for sid, info in snapshot.items():
        assert info.guest is not None
        by_tenant.setdefault(info.guest.tenant_id, []).append(sid)
    out: list[str] = []
    for tid, sids in by_tenant.items():
        with tenant_scope(tid):
            try:
                refused = access.guests_refused([snapshot[s].guest for s in sids])  # type: ignore[misc]
            finally:
                db.session.rollback()
        out.extend(s for s in sids if snapshot[s].guest.booking_id in refused)  # type: ignore[union-attr]
    return out


def _stale_users(snapshot: dict[str, SocketInfo]) -> list[str]:
    """Account sids whose login session ended."""
    if not snapshot:
        return []
    ids = {i.user_id for i in snapshot.values()}
    users = {u.id: (u.session_version, u.suspended_at) for u in db.session.execute(
        sa.select(User.id, User.session_version, User.suspended_at).where(User.id.in_(ids)))}
    db.session.rollback()
    sids = list(snapshot)
    live = login_sessions.live_flags([(snapshot[s].user_id, snapshot[s].session_id or "") for s in sids])
    out = []
    for sid, alive in zip(sids, live, strict=True):
        info = snapshot[sid]
        state = users.get(info.user_id)
        if state is None or state[0] != info.session_version or state[1] is not None or not alive:
            out.append(sid)
    return out


def sweep() -> list[str]:
    """One watchdog pass; returns the sids it disconnected."""
    presence.heartbeat(get_redis())
    gone = stale_sockets(local_sockets())
    for sid in gone:
        try:
            socketio.server.disconnect(sid, namespace="/")
        except Exception:  # noqa: BLE001 - already gone
            pass
    return gone
