"""The Origin policy of the Socket.IO handshake.

A browser may open a socket only from the host it connects to (same origin), and only when
that host is Plaza's: the platform domain, one of its subdomains, or a tenant's custom domain
(never an IP literal; the connect handler then applies the HTTP host rule, port included).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from app.extensions import db
from app.tenants.errors import HostRefused
from app.tenants.models import TenantDomain
from app.tenants.resolve import check_host

#: The app the Socket.IO server is bound to (set by :func:`bind_app`); the CORS callback of
#: python-socketio runs outside any app context.
_APP: dict[str, Flask] = {}


def bind_app(app: Flask) -> None:
    """Remember ``app`` for :func:`checked_origin` (called by ``init_realtime``)."""
    _APP["app"] = app


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
    if has_app_context():
        try:
            check_host(host)
        except HostRefused:
            return False
    domain = current_app.config["PLATFORM_DOMAIN"].lower() if has_app_context() else "localhost"
    if name == domain or name.endswith("." + domain):
        return True
    return _custom_domain(name)


def _custom_domain(name: str) -> bool:
    """True when ``name`` is a tenant's custom domain (read in a context of its own)."""
    app = _APP.get("app")
    if app is None:
        return False
    with app.app_context():
        try:
            return db.session.scalar(sa.select(TenantDomain.domain).where(TenantDomain.domain == name)) is not None
        finally:
            db.session.remove()


def checked_origin(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
    """python-socketio's ``cors_allowed_origins`` callback: :func:`origin_allowed` inside the
    bound app's context; ``False`` before :func:`bind_app`."""
    app = _APP.get("app")
    if app is None:
        return False
    with app.app_context():
        return origin_allowed(origin, environ)
