"""The provider's lead inbox (``/dashboard/leads``) and lead page (``/dashboard/leads/<id>``).

Access: every staff member may read leads, write in a lead's chat and log a call (they may be
the one doing the job); claiming, quoting and reporting spam are for owners and managers
(``manager_required``: plain staff get 403), because claiming spends the business's credits and
a quote commits the business to a price. The inbox's filters and live search answer the
``leads`` block for HTMX; the header shows the credit balance.
"""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.audit.service import request_actor
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import parse_price, price_text
from app.blueprints.dashboard.views.common import current_tenant, done
from app.blueprints.dashboard.views.leads_forms import DURATIONS, MessageForm, QuoteForm, SpamForm
from app.chat.errors import ChatError
from app.credits import balance
from app.formatting import format_duration
from app.leads import inbox
from app.leads.chat import mark_contacted, mark_read_by, messages, post_as_staff
from app.leads.claims import ClaimRefused, ShortOfCredits, claim_lead, contact_hours, is_open_offer
from app.leads.inbox_photos import photo_urls
from app.leads.quotes import QuoteError, QuoteInput, quote_lead, quote_line
from app.leads.spam import report_spam
from app.web import parse_uuid, render_page
from app.web.access import manager_required, staff_required

#: Where a business buys credits (the credits page).
CREDITS_PATH = "/dashboard/credits"


def inbox_page(status: int = 200) -> Response:
    """The inbox with the filters of the query string; the ``leads`` block for HTMX."""
    f = inbox.parse_filters(request.args.to_dict())
    return render_page("dashboard/leads.html", block="leads", status=status, f=f, tabs=inbox.TABS,
                       counts=inbox.tab_counts(f), leads=inbox.list_leads(f), categories=inbox.categories(),
                       expires_in=inbox.expires_in, credits=balance(), credits_url=CREDITS_PATH)


@bp.get("/dashboard/leads")
@login_required
@staff_required
def leads() -> Response:
    """Leads by tab (``?tab=``), filtered (``?category=``, ``?distance=`` km, ``?tier=``) and
    searched (``?q=``)."""
    return inbox_page()


def _lead_or_404(lead_id: str):
    lead = inbox.get_lead(parse_uuid(lead_id))
    if lead is None:
        raise NotFound()
    return lead


def lead_page(lead_id: str, status: int = 200, *, error: str = "", short: ShortOfCredits | None = None,
              quote_form: QuoteForm | None = None, message_form: MessageForm | None = None,
              spam_form: SpamForm | None = None) -> Response:
    """One lead: what the customer asked, why it came, claim, quote and chat; ``error`` (with a
    link to buy credits when ``short``) above the actions."""
    lead = _lead_or_404(lead_id)
    currency = current_tenant().currency
    form = quote_form or QuoteForm(formdata=None)
    if quote_form is None and lead.quote_min_amount is not None:
        form.min_price.data = price_text(lead.quote_min_amount, currency)
        form.max_price.data = price_text(lead.quote_max_amount, currency)
        form.duration_minutes.data = lead.quote_duration_minutes or 120
        form.message.data = lead.quote_message
    if quote_form is None and lead.quote_duration_minutes not in {m for m, _ in DURATIONS} and lead.quote_duration_minutes:
        form.duration_minutes.choices = [*(SelectChoice(m, label) for m, label in DURATIONS),
                                         SelectChoice(lead.quote_duration_minutes,
                                                      format_duration(lead.quote_duration_minutes))]
    claimable = is_open_offer(lead)
    return render_page(
        "dashboard/lead.html", block="lead", status=status, lead=lead, why=inbox.why(lead),
        match=inbox.match_line(lead), expires=inbox.expires_in(lead), claimable=claimable,
        photos=photo_urls(lead), chat=messages(lead) if lead.claimed_at else [], quote=quote_line(lead),
        quote_form=form, message_form=message_form or MessageForm(formdata=None),
        spam_form=spam_form or SpamForm(formdata=None), error=error, short=short, credits=balance(),
        credits_url=CREDITS_PATH, currency=currency, contact_hours=contact_hours(),
        tz=current_tenant().timezone)


@bp.get("/dashboard/leads/<lead_id>")
@login_required
@staff_required
def lead_detail(lead_id: str) -> Response:
    """The lead page (opening it marks the job chat read for this staff member)."""
    mark_read_by(_lead_or_404(lead_id), current_user)
    return lead_page(lead_id)


@bp.post("/dashboard/leads/<lead_id>/claim")
@login_required
@manager_required
def lead_claim(lead_id: str) -> Response:
    """Claim the lead (spends its credits); 409 with the reason on the page when refused."""
    lead = _lead_or_404(lead_id)
    try:
        outcome = claim_lead(lead.id, current_user, request_actor())
    except ShortOfCredits as exc:
        return lead_page(lead_id, 409, error=exc.message, short=exc)
    except ClaimRefused as exc:
        return lead_page(lead_id, 409, error=exc.message)
    note = _("You had already claimed this lead.") if outcome.replayed else ngettext(
        "Lead claimed for %(num)d credit. Contact the customer within %(hours)d hours.",
        "Lead claimed for %(num)d credits. Contact the customer within %(hours)d hours.",
        lead.credits_cost, hours=contact_hours())
    return done(note, url_for("dashboard.lead_detail", lead_id=lead.id))


@bp.post("/dashboard/leads/<lead_id>/quote")
@login_required
@manager_required
def lead_quote(lead_id: str) -> Response:
    """Send or change the quote; 422 with the errors beside the fields otherwise."""
    lead = _lead_or_404(lead_id)
    form = QuoteForm()
    currency = current_tenant().currency
    if form.validate():
        amounts: dict[str, int] = {}
        for name in ("min_price", "max_price"):
            try:
                amounts[name] = parse_price(getattr(form, name).data, currency)
            except ValueError as exc:
                getattr(form, name).errors = [str(exc)]
        if len(amounts) == 2:
            data = QuoteInput(amounts["min_price"], amounts["max_price"], currency, form.duration_minutes.data,
                              form.message.data)
            try:
                quote_lead(lead.id, data, current_user, request_actor())
            except QuoteError as exc:
                field = {"min": form.min_price, "max": form.max_price, "duration_minutes": form.duration_minutes,
                         "message": form.message}.get(exc.field or "")
                if field is None:
                    return lead_page(lead_id, 409, error=exc.message, quote_form=form)
                field.errors = [exc.message]
            else:
                return done(_("Quote sent to the customer."), url_for("dashboard.lead_detail", lead_id=lead.id))
    return lead_page(lead_id, 422, quote_form=form)


@bp.post("/dashboard/leads/<lead_id>/message")
@login_required
@staff_required
def lead_message(lead_id: str) -> Response:
    """Write to the customer in the job chat (the first staff message marks them contacted)."""
    lead = _lead_or_404(lead_id)
    form = MessageForm()
    if lead.claimed_at is None:
        return lead_page(lead_id, 409, error=_("Claim this lead before writing to the customer."))
    if form.validate():
        try:
            post_as_staff(lead, current_user, form.body.data)
        except ChatError as exc:
            form.body.errors = [str(exc)]
        else:
            return done(_("Message sent."), url_for("dashboard.lead_detail", lead_id=lead.id) + "#lead-chat")
    return lead_page(lead_id, 422, message_form=form)


@bp.post("/dashboard/leads/<lead_id>/called")
@login_required
@staff_required
def lead_called(lead_id: str) -> Response:
    """Log that someone called the customer (marks them contacted)."""
    lead = _lead_or_404(lead_id)
    if lead.claimed_at is None:
        return lead_page(lead_id, 409, error=_("Claim this lead before contacting the customer."))
    first = mark_contacted(lead)
    return done(_("Call logged: the customer counts as contacted.") if first else _("The customer was already contacted."),
                url_for("dashboard.lead_detail", lead_id=lead.id))


@bp.post("/dashboard/leads/<lead_id>/spam")
@login_required
@manager_required
def lead_spam(lead_id: str) -> Response:
    """Report the lead as spam: Plaza's moderators get it; an unclaimed lead leaves the inbox."""
    lead = _lead_or_404(lead_id)
    form = SpamForm()
    if not form.validate():
        return lead_page(lead_id, 422, spam_form=form)
    report_spam(lead, form.note.data or "", user_id=current_user.id, actor=request_actor())
    return done(_("Reported to Plaza's moderators. Thank you."), url_for("dashboard.leads"))
