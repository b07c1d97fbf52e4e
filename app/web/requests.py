"""Request helpers: the tenant in scope, host guards, ids from the URL and loading by id."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort, g

from app.extensions import db


def current_tenant():
    """The :class:`~app.tenants.models.Tenant` the request's host resolved to, or ``None`` on the apex."""
    return g.get("tenant")


def tenant_required(view: Callable) -> Callable:
    """Decorator: only on a tenant host; the apex answers 404."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def apex_only(view: Callable) -> Callable:
    """Decorator: only on the platform apex; tenant hosts answer 404."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is not None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """``uuid.UUID`` of ``value`` (any of its text forms) or ``None`` when absent or malformed; never raises."""
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def get_or_404(model: type, ident: Any) -> Any:
    """Load a tenant-scoped row of ``model`` by id (``uuid.UUID`` or its text) in the current tenant.

    Aborts 404 (:class:`werkzeug.exceptions.NotFound`) when it is absent: a malformed id and
    another tenant's id answer exactly like a missing one (the tenant guard filters the query).
    """
    key = parse_uuid(ident) if not isinstance(ident, uuid.UUID) else ident
    if key is None:
        abort(404)
    obj = db.session.scalar(sa.select(model).where(model.id == key))
    if obj is None:
        abort(404)
    return obj
