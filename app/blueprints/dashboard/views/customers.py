"""Customers (CRM): the list with search as you type, a page per customer with contact details,
bookings, visits, no-shows, spend, consent, staff-only notes and tags; editing contact details.

Every page is for staff of the business (the dashboard's guard); merging, export and erasure
(managers) are in :mod:`.customer_privacy`. HTMX requests get the named block of the page; a
refused form answers 422 with its errors beside the fields and nothing written.
"""

from __future__ import annotations

import uuid

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audit.service import AuditActor
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.customer_forms import ContactForm, NoteForm, TagForm
from app.blueprints.dashboard.views.common import current_tenant, done
from app.booking.models import Customer
from app.booking.validation import region_for_timezone
from app.crm import consent_of
from app.customers.errors import CustomerError, EmailInUse
from app.customers.queries import PER_PAGE, SORTS, customer_summary, list_customers
from app.customers.service import add_note, add_tag, remove_tag, update_contact
from app.payments.queries import payment_summaries
from app.tenants.models import Role
from app.web import get_or_404, is_htmx, parse_uuid, render_page
from app.web.access import staff_required, user_roles

#: Longest search text read from the URL.
MAX_QUERY = 100


def audit_actor() -> AuditActor:
    """The audit actor of this request: the logged-in account, client IP and user agent."""
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)


def page_number() -> int:
    """The ``page`` query argument (1 when absent or not a positive number)."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100000 else 1


def contact_form(customer: Customer | None = None) -> ContactForm:
    """The contact form, filled from ``customer`` on GET and from the request on POST."""
    form = ContactForm(obj=customer if request.method == "GET" else None,
                       default_region=region_for_timezone(current_tenant().timezone))
    return form


def customer_page(customer: Customer, *, block: str | None = None, status: int = 200, **forms) -> Response:
    """Render the customer page (or ``block`` of it for HTMX) with its summary and forms."""
    summary = customer_summary(customer)
    lines = summary.upcoming + summary.past
    money = payment_summaries([x.booking.id for x in lines])
    paid: dict[str, int] = {}
    for s in money.values():
        paid[s.currency] = paid.get(s.currency, 0) + s.paid + s.fees - s.refunded
    forms.setdefault("contact_form", contact_form(customer))
    forms.setdefault("note_form", NoteForm(formdata=None))
    forms.setdefault("tag_form", TagForm(formdata=None))
    return render_page("dashboard/customer.html", block=block, status=status, customer=customer, summary=summary,
                       paid_online=sorted((v, c) for c, v in paid.items() if v), consent=consent_of(customer),
                       payments=money, tz=current_tenant().timezone, **forms)


def changed(customer: Customer, block: str, message: str) -> Response:
    """After a note or tag change: the page's ``block`` for HTMX, else back to the page (303)."""
    if is_htmx():
        return customer_page(customer, block=block)
    return done(message, url_for("dashboard.customer_detail", customer_id=customer.id))


@bp.get("/dashboard/customers")
@login_required
@staff_required
def customers() -> Response:
    """The business's customers: search by name, email or phone (HTMX as you type: the
    ``results`` block), sorted by last visit (or name, or newest), 25 per page."""
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    sort = request.args.get("sort", "last_visit")
    sort = sort if sort in SORTS else "last_visit"
    page = page_number()
    rows, more = list_customers(q, sort=sort, page=page)
    return render_page("dashboard/customers.html", block="results", rows=rows, more=more, q=q, sort=sort,
                       page=page, per_page=PER_PAGE, tz=current_tenant().timezone,
                       is_owner=Role.OWNER.value in user_roles())


@bp.get("/dashboard/customers/<customer_id>")
@login_required
@staff_required
def customer_detail(customer_id: str) -> Response:
    """One customer: contact details, bookings, visits, no-shows, spend, consent, notes and tags."""
    return customer_page(get_or_404(Customer, customer_id))


@bp.post("/dashboard/customers/<customer_id>/contact")
@login_required
@staff_required
def customer_contact(customer_id: str) -> Response:
    """Save the customer's name, email and phone (audited); 422 with the errors otherwise."""
    customer = get_or_404(Customer, customer_id)
    form = contact_form(customer)
    if form.validate():
        try:
            changes = update_contact(customer, audit_actor(), name=form.name.data, email=form.email.data,
                                     phone=form.phone_e164)
        except EmailInUse as exc:
            form.email.errors = [exc.message]
            form.other_id = exc.other_id  # type: ignore[attr-defined]
        except CustomerError as exc:
            form.form_errors.append(exc.message)
        else:
            message = _("Contact details saved.") if changes else _("Nothing changed.")
            return done(message, url_for("dashboard.customer_detail", customer_id=customer.id))
    return customer_page(customer, block="contact", status=422, contact_form=form)


@bp.post("/dashboard/customers/<customer_id>/notes")
@login_required
@staff_required
def customer_note(customer_id: str) -> Response:
    """Append a staff note (author and time recorded); the ``notes`` block for HTMX."""
    customer = get_or_404(Customer, customer_id)
    form = NoteForm()
    if form.validate():
        try:
            add_note(customer, form.body.data, author_user_id=current_user.id,
                     author_name=current_user.name or current_user.email)
        except CustomerError as exc:
            form.body.errors = [exc.message]
        else:
            return changed(customer, "notes", _("Note added."))
    return customer_page(customer, block="notes", status=422, note_form=form)


@bp.post("/dashboard/customers/<customer_id>/tags")
@login_required
@staff_required
def customer_tag_add(customer_id: str) -> Response:
    """Add a tag chip (one per spelling); the ``tags`` block for HTMX."""
    customer = get_or_404(Customer, customer_id)
    form = TagForm()
    if form.validate():
        try:
            add_tag(customer, form.tag.data)
        except CustomerError as exc:
            form.tag.errors = [exc.message]
        else:
            return changed(customer, "tags", _("Tag added."))
    return customer_page(customer, block="tags", status=422, tag_form=form)


@bp.post("/dashboard/customers/<customer_id>/tags/<tag_id>/delete")
@login_required
@staff_required
def customer_tag_remove(customer_id: str, tag_id: str) -> Response:
    """Remove a tag chip; the ``tags`` block for HTMX. A tag the customer does not have: 404."""
    customer = get_or_404(Customer, customer_id)
    if not remove_tag(customer, parse_uuid(tag_id) or uuid.UUID(int=0)):
        abort(404)
    return changed(customer, "tags", _("Tag removed."))
