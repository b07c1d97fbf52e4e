"""Unbound extension instances, bound to the app in :func:`app.create_app`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    """Declarative base of every Plaza model."""


class RoutingSession(FlaskSession):
    """The class of ``db.session``: each statement's engine is the bind key that
    :attr:`bind_router` returns (``None`` the default engine, else a ``SQLALCHEMY_BINDS`` key).

    The router is :func:`app.tenants.roles.route_transaction`, installed by
    ``create_app`` (through ``app.tenants.guard.install_guard``): each transaction runs on the
    tenant or the platform database role. Until it is installed, Flask-SQLAlchemy's own
    choice applies. Errors raised by the router propagate from the statement.
    """

    #: ``session -> bind key``; set by :func:`app.tenants.roles.install_role_router`.
    bind_router: ClassVar[Callable[[Session], str | None] | None] = None

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        """The engine for a statement: ``bind`` when given, else the router's choice."""
        router = RoutingSession.bind_router
        if bind is not None or router is None:
            return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        return self._db.engines[router(self)]


# Each transaction runs on the tenant or the platform database role (app.tenants.roles).
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()


def global_limit() -> str:
    """The budget every client IP shares over all routes (``RATELIMIT_DEFAULT``, e.g.
    ``"300 per minute"``, read per request so a test can change it), in the ``limits`` notation."""
    return current_app.config.get("RATELIMIT_GLOBAL") or "300 per minute"


#: Endpoints outside every limit: health probes and Stripe's signed webhook (static files
#: are exempt in Flask-Limiter already).
LIMIT_EXEMPT_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "webhooks.stripe_webhook"})


limiter = Limiter(key_func=get_remote_address, default_limits=[], application_limits=[global_limit])


@limiter.request_filter
def _exempt_endpoint() -> bool:
    return request.endpoint in LIMIT_EXEMPT_ENDPOINTS
socketio = SocketIO()
