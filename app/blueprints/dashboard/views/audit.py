"""The business's audit log for its owner: who did what to which record, when, from where, why."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_login import login_required
from werkzeug.wrappers import Response

from app.audit.queries import tenant_entries
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.views.common import current_tenant
from app.booking.models import Customer
from app.extensions import db
from app.identity.models import User
from app.web import parse_uuid, render_page
from app.web.access import owner_required

#: Entries per page.
PER_PAGE = 50


@bp.get("/dashboard/audit")
@login_required
@owner_required
def audit_log() -> Response:
    """The business's audit entries, newest first, 50 per page (the ``entries`` block for HTMX)."""
    value = request.args.get("page", "1")
    page = int(value) if value.isdigit() and 0 < int(value) < 100000 else 1
    entries, more = tenant_entries(page=page, per_page=PER_PAGE)
    ids = {e.actor_user_id for e in entries if e.actor_user_id is not None}
    names = {uid: name or email for uid, name, email in db.session.execute(
        sa.select(User.id, User.name, User.email).where(User.id.in_(ids)))} if ids else {}
    customer_ids = {parse_uuid(e.object_id) for e in entries if e.object_type == "customer"} - {None}
    customers = {str(cid): name for cid, name in db.session.execute(
        sa.select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids)))} if customer_ids else {}
    return render_page("dashboard/audit.html", block="entries", entries=entries, names=names, customers=customers,
                       page=page, more=more, tz=current_tenant().timezone)
