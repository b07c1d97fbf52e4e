"""Who may use the console: :func:`admin_required`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, g
from flask_login import current_user


def is_platform_admin() -> bool:
    """True when the signed-in person is a platform admin (the request is on the apex)."""
    return bool(current_user.is_authenticated and getattr(current_user, "is_platform_admin", False))


def admin_required(view: Callable) -> Callable:
    """Decorator of every console view: on the apex, for a signed-in platform admin; anyone
    else (signed out, a customer, a business owner, any tenant host) gets 404, as if the
    console did not exist."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("tenant") is not None or not is_platform_admin():
            abort(404)
        return view(*args, **kwargs)

    return wrapped
