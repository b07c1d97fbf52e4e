"""HTTP helpers shared by blueprints: page/fragment rendering, tenant guards, problem+json."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g, jsonify, render_template, request
from flask_login import current_user
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response

from app.extensions import db


def is_htmx() -> bool:
    """True for an HTMX request (``HX-Request: true``) that is not a history restore."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render the whole page, or for an HTMX request only ``block`` of the same template.

    Adds ``Vary: HX-Request`` so caches keep the two shapes apart.
    """
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    resp = current_app.make_response((body, status))
    resp.vary.add("HX-Request")
    return resp


def current_tenant():
    """The tenant the request's host resolved to, or ``None`` on the apex."""
    return g.get("tenant")


def tenant_required(view: Callable) -> Callable:
    """Only on a tenant host; the apex answers 404."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def apex_only(view: Callable) -> Callable:
    """Only on the platform apex; tenant hosts answer 404."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is not None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """``uuid.UUID`` of ``value`` or ``None`` when absent or malformed."""
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def get_or_404(model: type, ident: Any) -> Any:
    """Load a tenant-scoped row by id in the current tenant, else abort 404.

    A malformed id and another tenant's id answer exactly like a missing one.
    """
    key = parse_uuid(ident) if not isinstance(ident, uuid.UUID) else ident
    if key is None:
        abort(404)
    obj = db.session.scalar(sa.select(model).where(model.id == key))
    if obj is None:
        abort(404)
    return obj


def problem(status: int, title: str, detail: str, *, errors: Iterable[dict] | None = None,
            type_: str = "about:blank", **extra: Any) -> Response:
    """An RFC 9457 ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def user_roles() -> set[str]:
    """Roles the logged-in user holds in the current tenant (empty for anonymous/apex)."""
    if not current_user.is_authenticated or g.get("tenant") is None:
        return set()
    if "roles" not in g:
        from app.tenants.models import Membership

        g.roles = set(db.session.scalars(
            sa.select(Membership.role).where(Membership.user_id == current_user.id)
        ))
    return g.roles
