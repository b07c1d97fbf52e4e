"""Who may use the console, and on which terms: :func:`admin_required`, :func:`require_reason`.

* Only a signed-in platform admin, on the apex, reaches a console page; anyone else gets 404.
* Every admin session passes the second factor (:mod:`app.identity.totp`) before any page but
  the second-factor step itself: until then :func:`admin_required` redirects to it.
* Every console view runs on the platform database role explicitly, inside
  :func:`app.tenants.context.platform_scope`, never with a business in scope.
* A read of one business's data asks for a reason first (:func:`require_reason`): the reason is
  remembered for that object for :data:`REASON_MINUTES` and every read is audit-logged with it.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, g, redirect, request, session, url_for
from flask_login import current_user, user_logged_in
from werkzeug.wrappers import Response

from app.audit.service import AuditActor, record_audit
from app.tenants.context import platform_scope

#: Session key: the login identity (``User.get_id()``) that passed the second factor.
SECOND_FACTOR_KEY = "plaza_admin_2fa"
#: Session key: reasons given for reading objects, ``{"type:id": [reason, expires epoch s]}``.
REASONS_KEY = "plaza_admin_reasons"
#: Minutes a reason covers further reads of the same object.
REASON_MINUTES = 30


def is_platform_admin() -> bool:
    """True when the signed-in person is a platform admin (the request is on the apex)."""
    return bool(current_user.is_authenticated and getattr(current_user, "is_platform_admin", False))


def second_factor_passed() -> bool:
    """True when this session's login passed the admin second factor."""
    return current_user.is_authenticated and session.get(SECOND_FACTOR_KEY) == current_user.get_id()


def mark_second_factor_passed() -> None:
    """Record in the session that its login passed the second factor (a new login forgets it)."""
    session[SECOND_FACTOR_KEY] = current_user.get_id()


def _forget_second_factor(_sender: Any, **_extra: Any) -> None:
    """Every login starts without the second factor (``user_logged_in`` signal)."""
    session.pop(SECOND_FACTOR_KEY, None)
    session.pop(REASONS_KEY, None)


user_logged_in.connect(_forget_second_factor)


def audit_actor() -> AuditActor:
    """The signed-in person as an audit actor, with the request's IP address and user agent."""
    user_id = current_user.id if current_user.is_authenticated else None
    return AuditActor(user_id, request.remote_addr, request.user_agent.string or None)


def admin_first_factor(view: Callable) -> Callable:
    """Decorator of the second-factor step itself: a signed-in platform admin on the apex (404
    for anyone else), second factor not yet required. Runs in ``platform_scope``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is not None or not is_platform_admin():
            abort(404)
        with platform_scope(f"admin console: {request.endpoint}"):
            return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    """Decorator of every console view: on the apex, for a signed-in platform admin; anyone
    else (signed out, a customer, a business owner, any tenant host) gets 404, as if the
    console did not exist. An admin whose session has not passed the second factor is
    redirected to it (``next`` = this page). The view runs inside ``platform_scope`` (the
    platform database role, no business in scope)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is not None or not is_platform_admin():
            abort(404)
        if not second_factor_passed():
            return redirect(url_for("admin.second_factor", next=request.full_path.rstrip("?")))
        with platform_scope(f"admin console: {request.endpoint}"):
            return view(*args, **kwargs)

    return wrapped


def _reason_key(object_type: str, object_id: uuid.UUID | str) -> str:
    return f"{object_type}:{object_id}"


def remembered_reason(object_type: str, object_id: uuid.UUID | str) -> str | None:
    """The reason this session gave for reading the object, while it is still valid."""
    entry = session.get(REASONS_KEY, {}).get(_reason_key(object_type, object_id))
    if not entry or entry[1] < time.time():
        return None
    return entry[0]


def remember_reason(object_type: str, object_id: uuid.UUID | str, reason: str) -> None:
    """Remember ``reason`` for reads of the object by this session for :data:`REASON_MINUTES`."""
    now = time.time()
    reasons = {k: v for k, v in session.get(REASONS_KEY, {}).items() if v[1] >= now}
    reasons[_reason_key(object_type, object_id)] = [reason, now + REASON_MINUTES * 60]
    session[REASONS_KEY] = reasons


def require_reason(object_type: str, object_id: uuid.UUID | str, tenant_id: uuid.UUID | None = None,
                   ) -> Response | None:
    """Call first in a console view that shows one business's data (a business's detail, a
    booking, a customer): returns ``None`` when this session gave a reason for the object in the
    last :data:`REASON_MINUTES` (and writes the read to the audit log, ``admin.read`` with that
    reason, filed under ``tenant_id`` so the business sees it too); otherwise a redirect to the
    short reason form, which comes back here. Usage::

        asked = require_reason("booking", booking.id, tenant_id=booking.tenant_id)
        if asked is not None:
            return asked
    """
    reason = remembered_reason(object_type, object_id)
    if reason is None:
        return redirect(url_for("admin.give_reason", object_type=object_type, object_id=str(object_id),
                                tenant_id=str(tenant_id) if tenant_id else None,
                                next=request.full_path.rstrip("?")))
    record_audit(audit_actor(), "admin.read", object_type, object_id, reason=reason, tenant_id=tenant_id,
                 after={"path": request.path})
    return None
