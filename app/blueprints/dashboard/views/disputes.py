"""The business's disputes and refund requests: the list (open first), and each case with
both sides' words and evidence, where owners and managers answer a dispute with their own
evidence or accept (refund) / decline (with a reason) a refund request before the deadline.

Access: staff read (``staff_required``); owners and managers act (``manager_required``: 403
for plain staff). A case of another business answers 404 (tenant scope).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.views.common import current_tenant, done
from app.blueprints.dispute_helpers import actor, evidence_of, uploads
from app.booking.models import Booking, Customer
from app.disputes.errors import DisputeError
from app.disputes.models import Dispute
from app.disputes.service import accept_refund_request, answer_case, decline_refund_request, get_case
from app.extensions import db, limiter
from app.payments.gateway import GatewayError
from app.web import parse_uuid, render_page
from app.web.access import manager_required, staff_required


def _case_or_404(case_id: str) -> Dispute:
    case = get_case(parse_uuid(case_id))
    if case is None:
        abort(404)
    return case


def _case_page(case: Dispute, status: int = 200, error: str = "") -> Response:
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == case.booking_id))
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == case.customer_id))
    return render_page("disputes/dashboard_case.html", block="case", status=status, case=case, booking=booking,
                       customer=customer, evidence=evidence_of(case), error=error)


@bp.get("/dashboard/disputes")
@login_required
@staff_required
def disputes() -> Response:
    """Every case of the business: waiting for us first (soonest deadline first), then the rest."""
    rows = db.session.execute(
        sa.select(Dispute, Customer.name).join(Customer, Customer.id == Dispute.customer_id)
        .order_by(sa.case((Dispute.status == "awaiting_business", 0), (Dispute.status == "escalated", 1), else_=2),
                  Dispute.business_due_at, Dispute.created_at.desc()).limit(200)).all()
    return render_page("disputes/dashboard_list.html", block="cases", rows=rows, tz=current_tenant().timezone)


@bp.get("/dashboard/disputes/<case_id>")
@login_required
@staff_required
def dispute_detail(case_id: str) -> Response:
    """One case with both sides' evidence and, while it waits for us, the answer form."""
    return _case_page(_case_or_404(case_id))


@bp.post("/dashboard/disputes/<case_id>/answer")
@login_required
@manager_required
@limiter.limit("30 per hour", scope="dispute-answer")
def dispute_answer(case_id: str) -> Response:
    """Answer a dispute (``answer`` text and ``files``), or for a refund request ``action=accept``
    (refund everything still paid) / ``action=decline`` (``answer`` says why). Refused: 422."""
    case = _case_or_404(case_id)
    action = request.form.get("action", "answer")
    try:
        with db.session.begin_nested():
            if action == "accept":
                accept_refund_request(actor(), case, tenant_id=current_tenant().id)
                message = _("Refund sent to the customer.")
            elif action == "decline":
                decline_refund_request(actor(), case, reason=request.form.get("answer", ""))
                message = _("Declined: the platform will decide.")
            else:
                answer_case(actor(), case, answer=request.form.get("answer", ""), files=uploads())
                message = _("Answer sent: the platform will decide.")
    except DisputeError as exc:
        db.session.refresh(case)
        return _case_page(case, 422, exc.message)
    except GatewayError:
        db.session.refresh(case)
        return _case_page(case, 422, _("The card network did not accept the refund just now; try again in a minute."))
    return done(message, url_for("dashboard.dispute_detail", case_id=case.id))
