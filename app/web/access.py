"""Who may open a page: one module, one answer policy for every blueprint.

The policy (the same for every guard):

* the platform apex (no tenant on the host): **404**;
* not logged in: to the login page (**302**), or **401** problem+json under ``/api/``;
* logged in but no staff role in this tenant (a customer, another business's owner): **404**,
  exactly like any other tenant's record, so the page's existence is not revealed;
* staff of this tenant without the role the page needs: **403**.

Each guard sets ``g.is_staff`` and ``g.is_manager`` (the layouts show the Dashboard link and
the set-up menu from them). Use as decorators (``@staff_required``, ``@manager_required``,
``@owner_required``) or, for a whole blueprint, ``bp.before_request(require_staff)`` /
``bp.before_request(require_manager)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.tenants.models import MANAGER_ROLES, STAFF_ROLES, Membership, Role
from app.web.errors import problem, wants_problem

#: Role names (``Membership.role`` values) of each level.
STAFF_ROLE_NAMES = frozenset(r.value for r in STAFF_ROLES)
MANAGER_ROLE_NAMES = frozenset(r.value for r in MANAGER_ROLES)
OWNER_ROLE_NAMES = frozenset({Role.OWNER.value})

#: The 403 message of each level.
MANAGER_MESSAGE = _l("Only the business's owner or a manager can change its set-up.")
OWNER_MESSAGE = _l("Only the business's owner can do this.")


def user_roles() -> set[str]:
    """Role names the logged-in user holds in the current tenant (empty for anonymous users and
    on the apex); read once per request and kept on ``g.roles``."""
    if not current_user.is_authenticated or g.get("tenant") is None:
        return set()
    if "roles" not in g:
        g.roles = set(db.session.scalars(
            sa.select(Membership.role).where(Membership.user_id == current_user.id)
        ))
    return g.roles


def check_access(needed: Iterable[str], message: str = MANAGER_MESSAGE) -> Response | None:
    """Apply the policy for a page that needs one of the role names in ``needed``.

    Returns ``None`` when the user may proceed, or the login answer for an anonymous user (a
    redirect, or a 401 problem under ``/api/``). Aborts 404 on the apex and for users without
    a staff role here, 403 (with ``message``) for staff without a needed role.
    """
    if g.get("tenant") is None:
        abort(404)
    if not current_user.is_authenticated:
        if wants_problem():
            return problem(401, "Unauthorized", _("Log in to continue."))
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    roles = user_roles()
    if not roles & STAFF_ROLE_NAMES:
        abort(404)
    g.is_staff = True
    g.is_manager = bool(roles & MANAGER_ROLE_NAMES)
    if not roles & frozenset(needed):
        abort(403, message)
    return None


def require(needed: Iterable[str], message: str = MANAGER_MESSAGE) -> Callable[[Callable], Callable]:
    """Decorator factory: the view runs only when :func:`check_access` lets the user through."""
    needed = frozenset(needed)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refused = check_access(needed, message)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return wrapped

    return decorator


#: Any staff role (owner, manager, staff) in this tenant.
staff_required = require(STAFF_ROLE_NAMES)
#: Owners and managers; plain staff get 403.
manager_required = require(MANAGER_ROLE_NAMES, MANAGER_MESSAGE)
#: Owners only; managers and staff get 403.
owner_required = require(OWNER_ROLE_NAMES, OWNER_MESSAGE)


def require_staff() -> Response | None:
    """``before_request`` form of :data:`staff_required` for a blueprint whose every page is for staff."""
    return check_access(STAFF_ROLE_NAMES)


def require_manager() -> Response | None:
    """``before_request`` form of :data:`manager_required` for a blueprint of set-up pages."""
    return check_access(MANAGER_ROLE_NAMES, MANAGER_MESSAGE)
