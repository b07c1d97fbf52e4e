"""Dispatch's client events over Socket.IO.

``dispatch:position {lat, lon}`` (an operator's phone, on its business's host) -> ``{ok, stored}``:
the live position goes to Redis (:func:`app.dispatch.operators.report_position`); ``stored`` is
false while the operator is offline or the business has dispatch off. Sent every few seconds
while the operator page is open and online.

``dispatch:watch {request_id}`` (the customer's status page, on the apex) -> ``{ok}``: join the
request's room (:func:`app.dispatch.notify.request_room`) when the request is the signed-in
customer's, else answered like a missing room. The server then sends ``dispatch:changed
{request_id, status}`` to it on every change; operators get ``dispatch:offer`` and
``dispatch:changed`` in their user room.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import join_room

from app.blueprints.realtime.scope import tenant_event
from app.blueprints.realtime.sockets import REFUSED, UNAUTHORIZED, SocketInfo, get_socket
from app.dispatch.notify import request_room
from app.dispatch.operators import find_operator, report_position
from app.dispatch.requests import customer_request
from app.extensions import db, socketio
from app.web import parse_uuid


@socketio.on("dispatch:position")
@tenant_event
def on_position(info: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    """Store the operator's live position (see the module docstring)."""
    if info.user_id is None or info.host_tenant_id is None:
        return REFUSED
    try:
        lat, lon = float(data.get("lat")), float(data.get("lon"))
    except (TypeError, ValueError):
        return {"ok": False, "error": "bad_position"}
    op = find_operator(info.user_id)
    if op is None:
        return REFUSED
    try:
        stored = report_position(op, lat, lon)
    except ValueError:
        return {"ok": False, "error": "bad_position"}
    return {"ok": True, "stored": stored}


@socketio.on("dispatch:watch")
def on_watch(data: Any = None, *_: Any) -> dict[str, Any]:
    """Join the room of the signed-in customer's own request (see the module docstring)."""
    try:
        info = get_socket(request.sid)
        if info is None or info.user_id is None or not current_user.is_authenticated \
                or current_user.id != info.user_id:
            return UNAUTHORIZED
        rid = parse_uuid((data or {}).get("request_id")) if isinstance(data, dict) else None
        if rid is None or info.host_tenant_id is not None:
            return REFUSED
        if customer_request(rid, info.user_id) is None:
            return REFUSED
        join_room(request_room(rid))
        return {"ok": True}
    finally:
        db.session.rollback()
        db.session.remove()
