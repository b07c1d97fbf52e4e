"""Support access ("view as"): a platform admin looks at one business's dashboard, read-only.

* Started from the console (``/admin/view-as/<tenant id>``) after a reason
  (:func:`app.blueprints.admin.access.require_reason`); ``support.view_as_started`` is
  audit-logged under the business, then a one-time token (valid :data:`ENTER_SECONDS`) signs the
  admin in on the business's host with a session mark (``tenant``, ``user``, ``until``, ``reason``).
* While the mark is valid (:data:`VIEW_AS_MINUTES` at most), every request on that host:
  reads as staff of every role; any POST/PUT/PATCH/DELETE (but ending the access) is refused
  with 403 and a clear message; and the database transaction is ``READ ONLY``, so nothing can
  be written even by a GET. Every dashboard page shows a banner (``admin/_view_as_banner.html``).
* It ends when the admin ends it or when it expires (the next request): ``support.view_as_ended``
  is audit-logged, the mark removed and the admin signed out on that host.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa
from flask import abort, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.audit.service import record_audit
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required, audit_actor, remembered_reason, require_reason
from app.extensions import RoutingSession, db
from app.identity.models import User
from app.identity.service import TokenError, make_token, read_token
from app.tenants.models import Tenant
from app.tenants.urls import external_url, platform_url
from app.web import render_page

#: Session key of the support-access mark on the business's host.
VIEW_AS_KEY = "plaza_view_as"
#: Longest support access, in minutes.
VIEW_AS_MINUTES = 30
#: Seconds the sign-in token from the console to the business's host is valid.
ENTER_SECONDS = 120
#: Methods that never change anything.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Endpoints allowed to write during support access (ending it).
WRITE_ALLOWED = frozenset({"admin.view_as_end"})
#: All staff role names: what a support session reads as.
ALL_ROLES = frozenset({"owner", "manager", "staff"})


def active_view_as() -> dict[str, Any] | None:
    """The support-access mark of this session on this business's host, expired or not, or
    ``None``: ``{"tenant", "user", "until" (epoch s), "reason"}``."""
    mark = session.get(VIEW_AS_KEY)
    tenant = g.get("tenant")
    if not mark or tenant is None or mark.get("tenant") != str(tenant.id):
        return None
    if not current_user.is_authenticated or str(current_user.id) != mark.get("user"):
        return None
    return mark


@bp.before_app_request
def enforce_view_as() -> Response | None:
    """While support access is active on this host: read as every staff role, refuse writes
    (403 with a message), make the transaction read-only; once expired, end it."""
    mark = active_view_as()
    if mark is None:
        return None
    if mark["until"] < time.time():
        if request.endpoint in ("admin.view_as_ended", "static"):
            return None
        return redirect(url_for("admin.view_as_ended"))
    if request.method not in SAFE_METHODS and request.endpoint not in WRITE_ALLOWED:
        return render_page("admin/view_as_refused.html", status=403)
    g.roles = set(ALL_ROLES)
    g.view_as = mark
    if request.endpoint not in WRITE_ALLOWED:
        g.view_as_read_only = True  # every transaction this request begins (_read_only_begin)
        if db.session().in_transaction():
            db.session.execute(sa.text("set transaction read only"))
    return None


def _read_only_begin(_session: Any, _transaction: Any, connection: sa.Connection) -> None:
    """Make each transaction begun during a support-access request read-only."""
    if has_request_context() and g.get("view_as_read_only"):
        connection.exec_driver_sql("set transaction read only")


sa.event.listen(RoutingSession, "after_begin", _read_only_begin)


@bp.app_context_processor
def view_as_context() -> dict[str, Any]:
    """``view_as`` (the active mark, or ``None``) and its minutes left, for the banner."""
    mark = g.get("view_as")
    left = max(0, int((mark["until"] - time.time()) // 60)) if mark else 0
    return {"view_as": mark, "view_as_minutes_left": left}


@bp.route("/view-as/<uuid:tenant_id>", methods=["GET", "POST"])
@admin_required
def view_as_start(tenant_id: uuid.UUID) -> Response:
    """Ask for a reason, then (POST) start read-only support access to the business: audit-logged,
    then on to its dashboard on its own host."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        abort(404)
    asked = require_reason("business", tenant_id, tenant_id=tenant_id)
    if asked is not None:
        return asked
    if request.method == "GET":
        return render_page("admin/view_as_start.html", tenant=tenant, minutes=VIEW_AS_MINUTES)
    reason = remembered_reason("business", tenant_id) or ""
    record_audit(audit_actor(), "support.view_as_started", "tenant", tenant_id, reason=reason, tenant_id=tenant_id,
                 after={"minutes": VIEW_AS_MINUTES})
    token = make_token("view-as", {"user": str(current_user.id), "tenant": str(tenant_id), "reason": reason})
    return redirect(external_url("admin.view_as_enter", tenant=tenant, token=token))


@bp.get("/view-as/enter")
def view_as_enter() -> Response:
    """On the business's host: the console's one-time token signs the admin in here with the
    support-access mark and opens the dashboard. Anything wrong: 404."""
    tenant = g.get("tenant")
    try:
        data = read_token("view-as", request.args.get("token", ""), ENTER_SECONDS)
    except TokenError:
        abort(404)
    user = db.session.get(User, uuid.UUID(data["user"]))
    if tenant is None or data["tenant"] != str(tenant.id) or user is None or not user.is_platform_admin:
        abort(404)
    login_user(user)
    session[VIEW_AS_KEY] = {"tenant": data["tenant"], "user": data["user"], "reason": data["reason"],
                            "until": time.time() + VIEW_AS_MINUTES * 60}
    return redirect("/dashboard/")


def _end(how: str) -> None:
    mark = session.pop(VIEW_AS_KEY)
    record_audit(audit_actor(), "support.view_as_ended", "tenant", mark["tenant"], reason=mark["reason"],
                 after={"how": how})
    logout_user()


@bp.post("/view-as/end")
def view_as_end() -> Response:
    """End support access now (audit-logged), sign out on this host and go back to the console."""
    if active_view_as() is None:
        abort(404)
    _end("ended")
    return redirect(platform_url("/admin/"))


@bp.get("/view-as/ended")
def view_as_ended() -> Response:
    """Support access ran out: end it (audit-logged), sign out here and say so."""
    mark = active_view_as()
    if mark is None or mark["until"] >= time.time():
        abort(404)
    _end("expired")
    return render_page("admin/view_as_ended.html", console=platform_url("/admin/"), minutes=VIEW_AS_MINUTES)
