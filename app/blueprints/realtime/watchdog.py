"""The watchdog: closes this process's sockets whose login session or booking ended, and
refreshes the process's presence heartbeat (:mod:`app.realtime.presence`).

A background task per process runs :func:`sweep` every :data:`SWEEP_SECONDS`, so a socket of
an ended session (logout, password change, suspension, "end session") or of a guest whose
booking was cancelled closes within about two sweeps.
"""

from __future__ import annotations

import logging
import threading
import uuid

import redis
import sqlalchemy as sa
from flask import Flask, current_app

from app.blueprints.realtime.sockets import SocketInfo, local_sockets
from app.chat import access
from app.chat.access import BookingGuest
from app.extensions import db, socketio
from app.identity import sessions as login_sessions
from app.identity.models import User
from app.realtime import presence
from app.redis_client import get_redis
from app.tenants.context import tenant_scope

log = logging.getLogger("plaza.realtime")

#: Seconds between two watchdog sweeps (sockets of ended sessions close within ~2 sweeps).
SWEEP_SECONDS = 1.5

_started = threading.Event()
_start_lock = threading.Lock()


def ensure_watchdog() -> None:
    """Start this process's watchdog task once (on the first accepted socket)."""
    with _start_lock:
        if _started.is_set():
            return
        _started.set()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001 - Flask's documented way
    socketio.start_background_task(watch, app)


def watch(app: Flask) -> None:
    """Every :data:`SWEEP_SECONDS`: refresh this process's presence heartbeat and close
    sockets whose session ended (logout, password change, suspension). A failing sweep is
    logged and the next one runs."""
    while True:
        socketio.sleep(SWEEP_SECONDS)
        with app.app_context():
            try:
                sweep()
            # The task's one boundary: whatever a sweep hits, the watchdog must keep running
            # (a dead watchdog would leave sockets of ended sessions open).
            except Exception:  # noqa: BLE001
                log.warning("realtime sweep failed", exc_info=True)
            finally:
                db.session.remove()


def stale_sockets(snapshot: dict[str, SocketInfo]) -> list[str]:
    """Sids in ``snapshot`` whose session ended: user gone, suspended or with a newer
    ``session_version``, or their server-side login session ended (logout, "end session",
    expiry; see :func:`app.identity.sessions.live_flags`); a guest's booking cancelled or gone."""
    guests = {sid: i.guest for sid, i in snapshot.items() if i.guest is not None}
    users = {sid: i for sid, i in snapshot.items() if i.guest is None}
    return _stale_users(users) + _stale_guests(guests)


def _stale_guests(guests: dict[str, BookingGuest]) -> list[str]:
    """Guest sids whose booking may no longer chat (one query per business)."""
    by_tenant: dict[uuid.UUID, list[str]] = {}
    for sid, guest in guests.items():
        by_tenant.setdefault(guest.tenant_id, []).append(sid)
    out: list[str] = []
    for tid, sids in by_tenant.items():
        with tenant_scope(tid):
            try:
                refused = access.guests_refused([guests[s] for s in sids])
            finally:
                db.session.rollback()
        out.extend(s for s in sids if guests[s].booking_id in refused)
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
        disconnect_sid(sid)
    return gone


def disconnect_sid(sid: str) -> None:
    """Close this process's socket ``sid``; nothing when it is already gone."""
    try:
        socketio.server.disconnect(sid, namespace="/")
    except (KeyError, ValueError, redis.RedisError):  # already gone, or the queue is down
        log.debug("socket already gone", extra={"sid": sid})


__all__ = ["SWEEP_SECONDS", "disconnect_sid", "ensure_watchdog", "stale_sockets", "sweep", "watch"]
