"""Rate limits on the customer's request actions (per client IP): confirming, rejecting and
messaging (``REQUEST_ACTION_LIMITS``, default ``30 per hour``; messages
``REQUEST_MESSAGE_LIMITS``, default ``60 per hour``). Over a limit: the 429 page."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from app.extensions import limiter


def _setting(name: str, default: str) -> Callable[[], str]:
    return lambda: current_app.config.get(name) or default


def action_limits(view: Callable) -> Callable:
    """Per-IP limit on confirm and reject."""
    return limiter.limit(_setting("REQUEST_ACTION_LIMITS", "30 per hour"), scope="job-request-action",
                         methods=["POST"])(view)


def message_limits(view: Callable) -> Callable:
    """Per-IP limit on the customer's chat messages."""
    return limiter.limit(_setting("REQUEST_MESSAGE_LIMITS", "60 per hour"), scope="job-request-message",
                         methods=["POST"])(view)
