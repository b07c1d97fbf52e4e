"""Connecting and disconnecting sockets: who a socket acts for.

A socket acts for one *actor*: a logged-in account (authenticated from the session), or the
guest of one booking (no account: the booking's manage token in the Socket.IO ``auth``
payload, ``{"manage_token": "<token>"}``, never in the URL). A guest socket is accepted only
on the booking's business host, joins no user or staff room, and may join only that
booking's conversation; everything else answers like a missing room.

Connect and disconnect only read the database; they write nothing, so they need no unit of
work (the session is removed after each).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import redis
from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from app.blueprints.realtime.origin import origin_allowed
from app.blueprints.realtime.sockets import SocketInfo, add_socket, emit_presence, pop_socket
from app.blueprints.realtime.watchdog import ensure_watchdog
from app.chat import access
from app.extensions import db, socketio
from app.identity import sessions as login_sessions
from app.realtime import closing, presence
from app.realtime.emit import staff_room, user_room
from app.redis_client import get_redis
from app.tenants.context import reset_tenant, set_tenant
from app.tenants.errors import TenantNotFound
from app.tenants.resolve import resolve_host
from app.tenants.roles import hand_over_to_tenant_role

log = logging.getLogger("plaza.realtime")


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Check the Origin, resolve the host, then authenticate the actor: with
    ``auth = {"manage_token": …}`` the guest of that booking (see :func:`guest_socket`; no
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
            guest_tid = target.tenant.id if target.tenant else None
            add_socket(request.sid, guest_socket(auth.get("manage_token"), guest_tid))
            closing.track(get_redis(), request.sid, None, guest_tid)
            ensure_watchdog()
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
        add_socket(request.sid, info)
        closing.track(get_redis(), request.sid, info.user_id, host_tid)
        join_room(user_room(info.user_id))
        if staff:
            join_room(staff_room(host_tid))
        ensure_watchdog()
    finally:
        db.session.remove()


def guest_socket(token: Any, host_tid: uuid.UUID | None) -> SocketInfo:
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
    """Forget the socket; tell its conversations when its person went offline (best effort:
    a Redis failure is logged, the socket is forgotten anyway)."""
    info = pop_socket(request.sid)
    if info is None:
        return
    try:
        r = get_redis()
        closing.untrack(r, request.sid, info.user_id, info.host_tenant_id)
        for j in info.joined.values():
            presence.remove(r, j.tenant_id, j.conversation_id, j.participant_id, request.sid)
            emit_presence(r, j.tenant_id, j.conversation_id)
    except redis.RedisError:
        log.warning("presence cleanup failed", exc_info=True)
