"""HTTP plumbing shared by blueprints (the ``app.web`` layer).

* :mod:`app.web.render` — ``render_page`` (whole page or one named block for HTMX), ``is_htmx``;
* :mod:`app.web.errors` — ``problem`` (RFC 9457 problem+json) and the app's error handlers;
* :mod:`app.web.access` — ``staff_required`` / ``manager_required`` / ``owner_required``, one policy;
* :mod:`app.web.requests` — ``tenant_required``, ``apex_only``, ``parse_uuid``, ``get_or_404``.

The request unit of work stays in :mod:`app.uow`. Domains never import this package.
"""

from __future__ import annotations

from app.web.access import manager_required, owner_required, staff_required, user_roles
from app.web.errors import problem, register_errorhandlers
from app.web.render import is_htmx, render_page
from app.web.requests import apex_only, current_tenant, get_or_404, parse_uuid, tenant_required

__all__ = [
    "apex_only", "current_tenant", "get_or_404", "is_htmx", "manager_required", "owner_required", "parse_uuid",
    "problem", "register_errorhandlers", "render_page", "staff_required", "tenant_required", "user_roles",
]
