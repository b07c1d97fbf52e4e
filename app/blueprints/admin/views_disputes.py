"""The console's disputes queue: every business's disputes and refund requests (filters by
status and kind), each case with both sides' words and evidence, and the decision: full
refund, partial refund (an amount) or rejected, with a reason both sides read; then close.

Lists read across businesses in an explicit, logged ``platform_scope``; a case is read and
decided inside its business's scope. Platform admins only (everyone else: 404).
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.blueprints.dispute_helpers import actor, evidence_of
from app.booking.models import Booking, Customer
from app.disputes.errors import DisputeError, InvalidMove
from app.disputes.models import DECISIONS, Dispute, DisputeStatus
from app.disputes.refunds import refundable_amount
from app.disputes.service import close_case, decide_case, get_case
from app.extensions import db, limiter
from app.formatting import currency_decimals, reader_locale
from app.payments.gateway import GatewayError
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.web import parse_uuid, render_page

#: Status filter values -> the statuses they show.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "todo": (DisputeStatus.ESCALATED.value,),
    "waiting": (DisputeStatus.OPEN.value, DisputeStatus.AWAITING_BUSINESS.value),
    "decided": (DisputeStatus.DECIDED.value,),
    "closed": (DisputeStatus.CLOSED.value,),
}


@bp.get("/disputes")
@admin_required
def disputes() -> Response:
    """The queue: ``?status=todo|waiting|decided|closed|all`` (default todo: escalated to the
    platform), ``?kind=dispute|refund_request``; oldest first. The ``queue`` block for HTMX."""
    status = request.args.get("status", "todo")
    kind = request.args.get("kind", "")
    q = (sa.select(Dispute, Tenant.name, Tenant.id).join(Tenant, Tenant.id == Dispute.tenant_id)
         .order_by(Dispute.escalated_at.nulls_last(), Dispute.created_at).limit(300))
    if status in STATUS_FILTERS:
        q = q.where(Dispute.status.in_(STATUS_FILTERS[status]))
    if kind in ("dispute", "refund_request"):
        q = q.where(Dispute.kind == kind)
    with platform_scope("admin disputes queue"):
        rows = db.session.execute(q).all()
    return render_page("admin/disputes.html", block="queue", rows=rows, status_filter=status, kind=kind)


def _case(tenant_id: str, case_id: str) -> tuple[Tenant, uuid.UUID]:
    tid = parse_uuid(tenant_id)
    tenant = db.session.get(Tenant, tid) if tid else None
    cid = parse_uuid(case_id)
    if tenant is None or cid is None:
        abort(404)
    return tenant, cid


def _detail(tenant: Tenant, case: Dispute, status: int = 200, error: str = "") -> Response:
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == case.booking_id))
    customer = db.session.scalar(sa.select(Customer).where(Customer.id == case.customer_id))
    return render_page("admin/dispute_detail.html", block="case", status=status, tenant=tenant, case=case,
                       booking=booking, customer=customer, evidence=evidence_of(case), error=error,
                       refundable=min(case.paid_amount, refundable_amount(case.booking_id)), decisions=DECISIONS,
                       amount_example=amount_example(case.currency))


@bp.get("/disputes/<tenant_id>/<case_id>")
@admin_required
def dispute_detail(tenant_id: str, case_id: str) -> Response:
    """One case: the booking, both sides and their evidence, and the decision form."""
    tenant, cid = _case(tenant_id, case_id)
    with tenant_scope(tenant.id):
        case = get_case(cid)
        if case is None:
            abort(404)
        return _detail(tenant, case)


def amount_example(currency: str) -> str:
    """An amount to type, as the reader writes it, for the hint and error: ``"120.50"`` (en),
    ``"120,50"`` (da); ``"12050"`` for a currency without minor units (JPY)."""
    decimals = currency_decimals(currency)
    pattern = "0." + "0" * decimals if decimals else "0"
    return format_decimal(Decimal(12050).scaleb(-decimals), pattern, locale=reader_locale())


def parse_amount(raw: str, currency: str) -> int | None:
    """``raw`` (major units as typed, ``"120.50"``) in minor units of ``currency``; ``None`` when unreadable."""
    try:
        value = Decimal((raw or "").strip().replace(",", "."))
    except InvalidOperation:
        return None
    minor = value * (10 ** currency_decimals(currency))
    return int(minor) if minor == minor.to_integral_value() and minor.is_finite() else None


@bp.post("/disputes/<tenant_id>/<case_id>/decide")
@admin_required
@limiter.limit("60 per hour", scope="admin-dispute-decide")
def dispute_decide(tenant_id: str, case_id: str) -> Response:
    """Decide: ``decision`` (full_refund / partial_refund / rejected), ``amount`` (major units,
    partial only), ``reason``; or ``decision=close`` on a decided case. Refused: 422 with the form."""
    tenant, cid = _case(tenant_id, case_id)
    with tenant_scope(tenant.id):
        case = get_case(cid)
        if case is None:
            abort(404)
        decision = request.form.get("decision", "")
        try:
            with db.session.begin_nested():
                if decision == "close":
                    close_case(actor(), case)
                else:
                    amount = None
                    if decision == "partial_refund":
                        amount = parse_amount(request.form.get("amount", ""), case.currency)
                        if amount is None:
                            raise InvalidMove(_("Type the amount to refund, e.g. %(example)s.", example=amount_example(case.currency)), field="amount")
                    decide_case(actor(), case, decision=decision, reason=request.form.get("reason", ""),
                                amount=amount, tenant_id=tenant.id)
        except DisputeError as exc:
            db.session.refresh(case)
            return _detail(tenant, case, 422, exc.message)
        except GatewayError:
            db.session.refresh(case)
            return _detail(tenant, case, 422, _("Stripe did not accept the refund just now; nothing was changed. Try again."))
    flash(_("Case closed.") if decision == "close" else _("Decision recorded; both sides are told."), "success")
    return redirect(url_for("admin.dispute_detail", tenant_id=tenant.id, case_id=cid), 303)
