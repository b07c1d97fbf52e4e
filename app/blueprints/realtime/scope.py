"""The wrapper every client event goes through: :func:`tenant_event`.

It re-checks the actor without SQL (:func:`session_holds`: the socket's server-side login
session, read from Redis on every event, must still be the one it was opened from and still be
logged in as the same account at the same ``session_version``; a logout, an ended session, a
changed password or a suspension deletes that session, so access ends at once — the account row
itself is re-read by the watchdog every couple of seconds; a guest's booking is re-read, so a
cancellation or the expiry of its manage link ends it), puts the tenant in scope (and the
account as the acting user), runs the handler as one unit of work
(:func:`app.uow.unit_of_work`: one commit when it returns, a rollback when it raises), then
runs the effects the handler registered with :func:`app.uow.after_commit` (emits to other sockets),
and cleans the DB session.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_socketio import disconnect

from app.blueprints.realtime.sockets import REFUSED, UNAUTHORIZED, SocketInfo, get_socket
from app.chat import access
from app.extensions import db
from app.tenants.context import reset_acting_user, reset_tenant, set_acting_user, set_tenant
from app.tenants.models import Tenant
from app.tenants.roles import hand_over_to_tenant_role
from app.uow import unit_of_work
from app.web import parse_uuid

log = logging.getLogger("plaza.realtime")

class SocketRefusal(Exception):  # noqa: N818 - a refusal, not a failure: the handler's answer
    """Raised by a handler to answer ``answer`` after rolling its unit of work back (e.g. a
    domain error once something may have been written)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(answer.get("error"))
        self.answer = answer


def tenant_event(handler: Callable[[SocketInfo, dict[str, Any]], Any]) -> Callable[..., Any]:
    """Wrap a client event: the socket must be known and its actor still valid (the same
    logged-in user; for a guest, their booking still open to chat — else it is disconnected),
    the payload a dict; the tenant (host's, or on the apex the payload's ``tenant_id``) is put
    in scope, the handler runs as one unit of work, its effects (:func:`app.uow.after_commit`)
    run after the commit, and the DB session is cleaned after.

    Answers: the handler's return value; :data:`UNAUTHORIZED` / :data:`REFUSED` as above; a
    :class:`SocketRefusal`'s answer; ``{"ok": false, "error": "server_error"}`` when the handler
    fails (logged; the socket stays open).
    """

    @functools.wraps(handler)
    def wrapped(data: Any = None, *_: Any) -> Any:
        info = get_socket(request.sid)
        if info is None or (info.guest is None and not session_holds(info)):
            disconnect()
            return UNAUTHORIZED
        payload = data if isinstance(data, dict) else {}
        tid = tenant_for(info, payload)
        if tid is None:
            db.session.remove()
            return REFUSED
        acting = set_acting_user(info.user_id)
        token = set_tenant(tid)
        try:
            hand_over_to_tenant_role()  # the business's events run on the tenant database role
            if info.guest is not None and (tid != info.guest.tenant_id or access.guest_booking(info.guest) is None):
                disconnect()
                return UNAUTHORIZED
            with unit_of_work():  # its after_commit effects run once it has committed
                answer = handler(info, payload)
            return answer
        except SocketRefusal as refusal:
            return refusal.answer
        # The one boundary of a socket event: whatever fails, the client gets an answer and
        # the socket stays open (the unit of work has rolled back).
        except Exception:  # noqa: BLE001
            log.exception("socket handler failed", extra={"event": handler.__name__})
            return {"ok": False, "error": "server_error"}
        finally:
            db.session.remove()
            reset_tenant(token)
            reset_acting_user(acting)

    return wrapped


def session_holds(info: SocketInfo) -> bool:
    """True while the server-side login session of this event (Flask-Session, read from Redis)
    is the one the account socket ``info`` was opened from and is still logged in as its account
    at the same ``session_version`` (Flask-Login's ``_user_id``, ``<uuid>:<version>``). Ending a
    session, logging out, a password change and a suspension delete the stored session
    (:mod:`app.identity.sessions`), so they fail this at once. No SQL."""
    return (info.user_id is not None and session.sid == info.session_id
            and session.get("_user_id") == f"{info.user_id}:{info.session_version}")


def tenant_for(info: SocketInfo, payload: dict[str, Any]) -> uuid.UUID | None:
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
