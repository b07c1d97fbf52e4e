"""The console's verification queue (``/admin/verification``): pending documents of every
business, each opened through a signed URL, approved or rejected with a reason.

A decision is audit-logged in the business's log, emailed to its owners (outbox) and updates
the verified badge of its listing at once. A rejection without a reason re-renders the queue
with 422 and the error beside the field; nothing is written.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.service import AuditActor
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.storage.urls import url_for_key
from app.verification.service import InvalidDecision, decide_document, pending_queue
from app.web import render_page


def render_queue(errors: dict[str, str] | None = None, status: int = 200) -> Response:
    """The queue page; ``errors`` maps a document id (text) to the message shown beside its form."""
    items = pending_queue()
    links = {item.document.id: url_for_key(item.document.storage_key, private=True) for item in items}
    return render_page("admin/verification.html", block="queue", status=status, items=items, links=links,
                       errors=errors or {})


@bp.get("/verification")
@admin_required
def verification_queue() -> Response:
    """Pending verification documents, oldest first."""
    return render_queue()


@bp.post("/verification/<uuid:document_id>")
@admin_required
def verification_decide(document_id: uuid.UUID) -> Response:
    """Approve (``decision=approve``) or reject (``decision=reject`` with ``reason``) a pending document."""
    decision = request.form.get("decision", "")
    if decision not in ("approve", "reject"):
        abort(400)
    actor = AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)
    try:
        doc = decide_document(actor, document_id, decision == "approve", request.form.get("reason", ""))
    except LookupError:
        abort(404)
    except InvalidDecision as exc:
        return render_queue({str(document_id): exc.message}, 422)
    flash(_("“%(title)s” approved; the business has been told.", title=doc.title) if decision == "approve"
          else _("“%(title)s” rejected; the business has been told.", title=doc.title), "success")
    return redirect(url_for("admin.verification_queue"), 303)
