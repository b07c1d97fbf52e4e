"""Managers' actions on customer records: merge duplicates (pick, preview, merge), export a
customer's data (GDPR access, a JSON download) and erase it (GDPR erasure, behind a confirmation
with the reason typed). Each is audited by :mod:`app.crm` in the request's transaction.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.customer_forms import EraseForm, MergeForm
from app.blueprints.dashboard.views.common import current_tenant, done
from app.blueprints.dashboard.views.customers import MAX_QUERY, audit_actor
from app.booking.models import ACTIVE_STATUSES, Customer
from app.crm import erase_customer, export_customer, merge_customers
from app.customers.errors import CannotMerge, CustomerError
from app.customers.merge import plan_merge
from app.customers.queries import customer_summary, list_customers
from app.extensions import db
from app.web import get_or_404, parse_uuid, render_page
from app.web.access import manager_required

#: Candidates shown when picking the duplicate.
CANDIDATES = 10
#: Statuses of an upcoming booking the erase page warns about (they still hold their time).
HOLDING = {s.value for s in ACTIVE_STATUSES}


def other_record(customer: Customer, raw: str | None) -> Customer | None:
    """The record ``raw`` (an id) of this business other than ``customer``, or ``None``."""
    other_id = parse_uuid(raw)
    if other_id is None or other_id == customer.id:
        return None
    return db.session.scalar(sa.select(Customer).where(Customer.id == other_id))


def merge_page(customer: Customer, form: MergeForm, *, status: int = 200) -> Response:
    """The merge page: a search for the duplicate (the ``candidates`` block for HTMX) and, once
    one is picked, the preview of what moves."""
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    candidates = [r for r in list_customers(q, sort="name", per_page=CANDIDATES + 1)[0]
                  if r.customer.id != customer.id][:CANDIDATES] if q else []
    other = other_record(customer, form.other.data or request.args.get("other"))
    plan, refusal = None, None
    if other is not None:
        form.other.data = str(other.id)
        try:
            plan = plan_merge(customer, other)
        except CannotMerge as exc:
            refusal = exc.message
    return render_page("dashboard/customer_merge.html", block="candidates" if q else None, status=status,
                       customer=customer, other=other, plan=plan, refusal=refusal, candidates=candidates, q=q,
                       form=form)


@bp.route("/dashboard/customers/<customer_id>/merge", methods=["GET", "POST"])
@login_required
@manager_required
def customer_merge(customer_id: str) -> Response:
    """Merge a duplicate into this customer: GET picks and previews, POST merges (audited)."""
    customer = get_or_404(Customer, customer_id)
    form = MergeForm()
    if request.method == "POST":
        other = other_record(customer, form.other.data)
        if form.validate() and other is not None:
            try:
                plan = merge_customers(customer, other, audit_actor(), reason=form.reason.data or "")
            except CannotMerge as exc:
                form.other.errors = [exc.message]
            else:
                moved = ", ".join([ngettext("%(num)d booking", "%(num)d bookings", plan.bookings),
                                   ngettext("%(num)d note", "%(num)d notes", plan.notes)])
                return done(_("Merged: %(moved)s and %(tags)s moved to %(name)s.", moved=moved,
                              tags=ngettext("%(num)d tag", "%(num)d tags", plan.tags), name=customer.name),
                            url_for("dashboard.customer_detail", customer_id=customer.id))
        elif other is None:
            form.other.errors = [_("Pick the duplicate record first.")]
        return merge_page(customer, form, status=422)
    return merge_page(customer, MergeForm(formdata=None))


@bp.post("/dashboard/customers/<customer_id>/export")
@login_required
@manager_required
def customer_export(customer_id: str) -> Response:
    """Download everything the business holds about the customer as JSON (audited)."""
    customer = get_or_404(Customer, customer_id)
    data = export_customer(customer, audit_actor())
    body = json.dumps(data, ensure_ascii=False, indent=2)
    resp = current_app.response_class(body, mimetype="application/json")
    resp.headers["Content-Disposition"] = f'attachment; filename="customer-{customer.id}.json"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/dashboard/customers/<customer_id>/erase", methods=["GET", "POST"])
@login_required
@manager_required
def customer_erase(customer_id: str) -> Response:
    """Erase the customer's data after a typed reason and a confirmation (audited)."""
    customer = get_or_404(Customer, customer_id)
    upcoming = [x for x in customer_summary(customer).upcoming if x.booking.status in HOLDING]
    form = EraseForm() if request.method == "POST" else EraseForm(formdata=None)
    if request.method == "POST":
        if form.validate():
            try:
                erase_customer(customer, audit_actor(), form.reason.data)
            except CustomerError as exc:
                form.reason.errors = [exc.message]
            else:
                return done(_("The customer's personal data was erased. Their bookings stay for your books."), url_for("dashboard.customer_detail", customer_id=customer.id))
        return render_page("dashboard/customer_erase.html", block="form", status=422, customer=customer, form=form,
                           upcoming=upcoming, tz=current_tenant().timezone)
    return render_page("dashboard/customer_erase.html", block="form", customer=customer, form=form,
                       upcoming=upcoming, tz=current_tenant().timezone)
