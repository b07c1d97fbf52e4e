"""The customer's side of disputes and refund requests, on the apex: for one of my paid
bookings, open a refund request or a dispute with evidence, and follow every case to its end.

Reads and writes happen inside the booking's business scope; a booking or case that is not mine
answers 404. Opening is rate-limited.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.account import bp
from app.blueprints.account.dispute_forms import OpenCaseForm
from app.blueprints.dispute_helpers import actor, evidence_of, uploads
from app.booking.models import Booking, Customer
from app.customers.ownership import owned_by
from app.disputes.errors import DisputeError
from app.disputes.evidence import evidence_url
from app.disputes.models import DISPUTE_REASONS, REFUND_REASONS, DisputeEvidence
from app.disputes.service import cases_of_booking, get_case, may_open, open_case
from app.extensions import db, limiter
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.tenants.urls import platform_url
from app.web import apex_only, parse_uuid, render_page


def _tenant(raw: str) -> Tenant:
    tid = parse_uuid(raw)
    tenant = db.session.get(Tenant, tid) if tid else None
    if tenant is None:
        abort(404)
    return tenant


def _my_booking(booking_id: uuid.UUID | None) -> Booking:
    """The booking in scope if it is the signed-in person's, else 404."""
    booking = booking_id and db.session.scalar(
        sa.select(Booking).join(Customer, sa.and_(Customer.id == Booking.customer_id,
                                                  Customer.tenant_id == Booking.tenant_id))
        .where(Booking.id == booking_id, owned_by(current_user)))
    if not booking:
        abort(404)
    return booking


def _page(tenant: Tenant, booking: Booking, form: OpenCaseForm, status: int = 200, error: str = "") -> Response:
    cases = cases_of_booking(booking.id)
    return render_page("disputes/customer_booking.html", block="cases", status=status, tenant=tenant,
                       booking=booking, cases=cases, evidence={c.id: evidence_of(c) for c in cases}, form=form,
                       refusal=may_open(booking, "refund_request") and may_open(booking, "dispute"), error=error,
                       dispute_reasons=DISPUTE_REASONS, refund_reasons=REFUND_REASONS)


@bp.route("/account/bookings/<tenant_id>/<booking_id>/problem", methods=["GET", "POST"])
@apex_only
@login_required
@limiter.limit("10 per hour", methods=["POST"], scope="dispute-open")
def booking_problem(tenant_id: str, booking_id: str) -> Response:
    """My cases on one booking, and the form to open a refund request or dispute (POST opens
    one: 303 to the case; refused input re-renders with 422)."""
    tenant = _tenant(tenant_id)
    with tenant_scope(tenant.id):
        booking = _my_booking(parse_uuid(booking_id))
        form = OpenCaseForm()
        if request.method == "GET":
            return _page(tenant, booking, form)
        if not form.validate_on_submit():
            return _page(tenant, booking, form, 422)
        try:
            with db.session.begin_nested():
                case = open_case(actor(), booking, kind=form.kind.data, reason=form.reason.data,
                                 description=form.description.data or "", customer_user_id=current_user.id,
                                 files=uploads())
        except DisputeError as exc:
            return _page(tenant, booking, form, 422, exc.message)
        case_id = case.id
    return redirect(url_for("account.case_detail", tenant_id=tenant.id, case_id=case_id), 303)


@bp.get("/account/cases/<tenant_id>/<case_id>")
@apex_only
@login_required
def case_detail(tenant_id: str, case_id: str) -> Response:
    """One of my cases: where it stands, the deadline, both sides' words and evidence, the decision."""
    tenant = _tenant(tenant_id)
    with tenant_scope(tenant.id):
        case = get_case(parse_uuid(case_id))
        if case is None:
            abort(404)
        booking = _my_booking(case.booking_id)
        return render_page("disputes/customer_case.html", tenant=tenant, booking=booking, case=case,
                           evidence=evidence_of(case))


@bp.app_template_global("evidence_url")
def evidence_link(evidence: DisputeEvidence) -> str:
    """Template global: a short-lived signed URL of one evidence file (pages render it only for
    the parties and platform admins)."""
    return evidence_url(evidence)


@bp.app_template_global("problem_url")
def problem_url(tenant_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    """Template global: the absolute URL (on the platform, from configuration) of the customer's
    refund and dispute page of one booking, for links from a business's host (the manage page)."""
    return platform_url(url_for("account.booking_problem", tenant_id=tenant_id, booking_id=booking_id))
