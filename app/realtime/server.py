"""Binding the Socket.IO server to the app: message queue, async mode, Origin policy,
and keepalive. Sockets read the server-side login session (``manage_session=False``); the
watchdog in :mod:`app.realtime.events` closes those whose session ended.

Async mode (``SOCKETIO_ASYNC_MODE``, detected when unset): ``threading`` under gunicorn's
``gthread`` worker (each open WebSocket holds one of the worker's threads), or ``gevent``
under ``-k gevent`` (psycopg 3 detects the monkeypatching and waits cooperatively);
WebSocket through ``simple-websocket`` in both. ONE worker per process (Socket.IO's
long-polling needs every request of a session on the same process); scale with more
processes behind a sticky load balancer, all sharing Redis (``message_queue=REDIS_URL``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from app.extensions import socketio
from app.tenants.errors import HostRefused
from app.tenants.resolve import check_host

log = logging.getLogger("plaza.realtime")

#: Engine.IO keepalive: a ping every 25 s; a client silent for 20 s more is dropped.
PING_INTERVAL = 25
PING_TIMEOUT = 20


def origin_allowed(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
    """True when a browser's ``Origin`` is the host it connects to (same origin) and that host
    is Plaza's: the platform domain, one of its subdomains, or a tenant's custom domain (never
    an IP literal; the connect handler then applies the HTTP host rule, port included).

    A request without ``Origin`` (not a browser) is left to the session check.
    """
    if not origin:
        return True
    parts = urlsplit(origin)
    host = (environ or {}).get("HTTP_HOST", "")
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.netloc.lower() != host.lower():
        return False
    name = (parts.hostname or "").lower()
    if _has_app():
        try:
            check_host(host)
        except HostRefused:
            return False
    domain = current_app.config["PLATFORM_DOMAIN"].lower() if _has_app() else "localhost"
    if name == domain or name.endswith("." + domain):
        return True
    return _custom_domain(name)


def _has_app() -> bool:
    from flask import has_app_context

    return has_app_context()


def _custom_domain(name: str) -> bool:
    app = _APP.get("app")
    if app is None:
        return False
    import sqlalchemy as sa

    from app.extensions import db
    from app.tenants.models import TenantDomain

    with app.app_context():
        try:
            return db.session.scalar(sa.select(TenantDomain.domain).where(TenantDomain.domain == name)) is not None
        finally:
            db.session.remove()


_APP: dict[str, Flask] = {}


def _checked_origin(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
    app = _APP.get("app")
    if app is None:
        return False
    with app.app_context():
        return origin_allowed(origin, environ)


def async_mode(configured: str | None = None) -> str:
    """``configured`` when set; else ``"gevent"`` when the process is gevent-monkeypatched
    (gunicorn ``-k gevent``), otherwise ``"threading"`` (gunicorn ``-k gthread``, dev server)."""
    if configured:
        return configured
    import sys

    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"
    return "threading"


def init_realtime(app: Flask) -> None:
    """Bind :data:`app.extensions.socketio` to ``app`` and register the event handlers."""
    _APP["app"] = app
    socketio.init_app(
        app,
        message_queue=app.config["REDIS_URL"],
        channel="flask-socketio",
        async_mode=async_mode(app.config.get("SOCKETIO_ASYNC_MODE")),
        cors_allowed_origins=_checked_origin,
        ping_interval=PING_INTERVAL,
        ping_timeout=PING_TIMEOUT,
        max_http_buffer_size=64 * 1024,
        logger=False,
        engineio_logger=False,
        # Handlers read the server-side (Flask-Session) session on every event, so a session
        # ended over HTTP is ended for its sockets too (see app.identity.sessions).
        manage_session=False,
    )
    from app.realtime import events  # noqa: F401 - registers the handlers
