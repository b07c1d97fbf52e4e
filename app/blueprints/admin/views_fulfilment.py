"""The console's manual fulfilment (``/admin/fulfilment``): job requests no provider matched or
claimed, oldest first, each with the candidates of its last routing round; a request's page shows
every round (who was considered, their tier, score and its parts, who got a lead) and lets an
admin assign a provider found by name, with a reason (audit-logged).

A missing reason, an unknown business or one that already had the request re-renders the page
with 422 and the error beside its field; nothing is written.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.blueprints.admin.common import admin_actor, console_post_limit
from app.leads.routing_manual import AssignmentError, assign_provider, manual_queue, routing_story, search_businesses
from app.leads.scoring import FACTOR_LABELS, FACTORS
from app.web import render_page

#: How the console names a routing tier.
TIER_LABELS = {1: _l("Service area"), 2: _l("Base postcode or city"), 3: _l("Travel radius"), None: _l("Outside every tier")}


@bp.get("/fulfilment")
@admin_required
def fulfilment() -> Response:
    """The manual-fulfilment queue, oldest first."""
    return render_page("admin/fulfilment.html", block="queue", items=manual_queue(), tiers=TIER_LABELS)


def render_request(job_request_id: uuid.UUID, errors: dict[str, str] | None = None, status: int = 200,
                   reason: str = "") -> Response:
    """A request's routing page; ``errors`` maps a form field to its message (404: no such request)."""
    story = routing_story(job_request_id)
    if story is None:
        abort(404)
    query = request.args.get("q", "")
    businesses = search_businesses(query, story.job.category_slug)
    offered = {lead.tenant_id for lead, _ in story.leads}
    return render_page("admin/fulfilment_detail.html", block=request.args.get("block") or "page", status=status,
                       story=story, job=story.job, businesses=businesses, offered=offered, query=query,
                       errors=errors or {}, reason=reason, tiers=TIER_LABELS, factors=FACTORS,
                       factor_labels=FACTOR_LABELS)


@bp.get("/fulfilment/<uuid:job_request_id>")
@admin_required
def fulfilment_request(job_request_id: uuid.UUID) -> Response:
    """Every routing round of one request, and the assignment form (``q`` searches businesses;
    an HTMX search asks for ``block=search``)."""
    if request.args.get("block") not in (None, "page", "search"):
        abort(400)
    return render_request(job_request_id)


@bp.post("/fulfilment/<uuid:job_request_id>/assign")
@admin_required
@console_post_limit
def fulfilment_assign(job_request_id: uuid.UUID) -> Response:
    """Assign the request to ``business_id`` with ``reason``: a manual lead, the request routed."""
    reason = request.form.get("reason", "")
    try:
        business_id = uuid.UUID(request.form.get("business_id", ""))
    except ValueError:
        return render_request(job_request_id, {"business_id": _("Choose a business.")}, 422, reason)
    try:
        lead = assign_provider(admin_actor(), job_request_id, business_id, reason)
    except LookupError:
        abort(404)
    except AssignmentError as exc:
        return render_request(job_request_id, {exc.field or "reason": exc.message}, 422, reason)
    flash(_("Offered to the business: lead %(lead)s; the owners and managers are being emailed.", lead=str(lead.id)[:8]), "success")
    return redirect(url_for("admin.fulfilment_request", job_request_id=job_request_id), 303)
