"""What the console's view modules share: the acting admin as an audit actor and the rate
limit on every console POST."""

from __future__ import annotations

from collections.abc import Callable

from flask import request
from flask_login import current_user

from app.audit.service import AuditActor
from app.extensions import limiter


def admin_actor() -> AuditActor:
    """The signed-in admin, with the request's IP address and user agent, for the audit log."""
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)


def _admin_key() -> str:
    return f"admin:{current_user.id}" if current_user.is_authenticated else f"ip:{request.remote_addr}"


def console_post_limit(view: Callable) -> Callable:
    """Rate limit of a console POST: 300 an hour per admin (a runaway script, not a busy operator)."""
    return limiter.limit("300 per hour", key_func=_admin_key, scope="admin-post", methods=["POST"])(view)
