"""Binding the Socket.IO server to the app: message queue, async mode, Origin policy,
and keepalive. Sockets read the server-side login session (``manage_session=False``); the
watchdog in :mod:`app.blueprints.realtime.watchdog` closes those whose session ended.

Async mode (``SOCKETIO_ASYNC_MODE``, detected when unset): ``threading`` under gunicorn's
``gthread`` worker (each open WebSocket holds one of the worker's threads), or ``gevent``
under ``-k gevent`` (psycopg 3 detects the monkeypatching and waits cooperatively);
WebSocket through ``simple-websocket`` in both. ONE worker per process (Socket.IO's
long-polling needs every request of a session on the same process); scale with more
processes behind a sticky load balancer, all sharing Redis (``message_queue=REDIS_URL``).
"""

from __future__ import annotations

import sys

from flask import Flask

# The handler modules register themselves on ``socketio`` when imported.
from app.blueprints.realtime import chat_events, connect, dispatch_events  # noqa: F401
from app.blueprints.realtime.origin import bind_app, checked_origin
from app.extensions import socketio

#: Engine.IO keepalive: a ping every 25 s; a client silent for 20 s more is dropped.
PING_INTERVAL = 25
PING_TIMEOUT = 20


def async_mode(configured: str | None = None) -> str:
    """``configured`` when set; else ``"gevent"`` when the process is gevent-monkeypatched
    (gunicorn ``-k gevent``), otherwise ``"threading"`` (gunicorn ``-k gthread``, dev server)."""
    if configured:
        return configured
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"
    return "threading"


def init_realtime(app: Flask) -> None:
    """Bind :data:`app.extensions.socketio` to ``app`` (its handlers are registered when this
    module is imported)."""
    bind_app(app)
    socketio.init_app(
        app,
        message_queue=app.config["REDIS_URL"],
        channel="flask-socketio",
        async_mode=async_mode(app.config.get("SOCKETIO_ASYNC_MODE")),
        cors_allowed_origins=checked_origin,
        ping_interval=PING_INTERVAL,
        ping_timeout=PING_TIMEOUT,
        max_http_buffer_size=64 * 1024,
        logger=False,
        engineio_logger=False,
        # Handlers read the server-side (Flask-Session) session on every event, so a session
        # ended over HTTP is ended for its sockets too (see app.identity.sessions).
        manage_session=False,
    )
