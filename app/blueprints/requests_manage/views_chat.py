"""The customer's job chat with one provider (apex): ``/requests/<id>/offers/<lead>/chat``.

The page shows the conversation and a send form (a plain form, or HTMX swapping the ``chat``
block); the message list refreshes itself every few seconds (HTMX polling of the same block), so
the provider's answers appear without reloading.
"""

from __future__ import annotations

import uuid

from flask import abort, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.blueprints.requests_manage import bp
from app.blueprints.requests_manage.forms import MessageForm
from app.blueprints.requests_manage.limits import message_limits
from app.blueprints.requests_manage.views import get_request_or_404
from app.chat.errors import ChatError
from app.chat.service import MAX_BODY
from app.leads.customer import offers_for
from app.leads.customer_chat import ChatUnavailable, chat_lead, chat_messages, post_customer_message
from app.leads.models import JobRequest
from app.web import apex_only, is_htmx, render_page


def _chat_page(job_request: JobRequest, lead_id: uuid.UUID, status: int = 200, form: MessageForm | None = None,
               error: str | None = None) -> Response:
    try:
        lead = chat_lead(job_request, lead_id)
    except ChatUnavailable:
        abort(404)
    offer = next((o for o in offers_for(job_request.id) if o.lead_id == lead_id), None)
    return render_page("requests/manage_chat.html", block="chat", status=status, jr=job_request, lead=lead,
                       offer=offer, messages=chat_messages(job_request, lead), form=form or MessageForm(formdata=None),
                       error=error, max_body=MAX_BODY)


@bp.get("/requests/<uuid:request_id>/offers/<uuid:lead_id>/chat")
@apex_only
def chat(request_id: uuid.UUID, lead_id: uuid.UUID) -> Response:
    """The job chat with the provider of ``lead_id`` (HTMX: the ``chat`` block, for polling)."""
    job_request = get_request_or_404(request_id)
    return _chat_page(job_request, lead_id)


@bp.post("/requests/<uuid:request_id>/offers/<uuid:lead_id>/chat")
@apex_only
@message_limits
def send_message(request_id: uuid.UUID, lead_id: uuid.UUID) -> Response:
    """Send a message to the provider; errors are shown under the box (422)."""
    job_request = get_request_or_404(request_id)
    form = MessageForm()
    try:
        lead = chat_lead(job_request, lead_id)
    except ChatUnavailable:
        abort(404)
    if not form.validate_on_submit():
        return _chat_page(job_request, lead_id, 422, form, "; ".join(map(str, form.body.errors)) or _("Please try again."))
    try:
        post_customer_message(job_request, lead, form.body.data)
    except ChatUnavailable:
        return _chat_page(job_request, lead_id, 422, form, _("This offer is closed, so its chat is read-only."))
    except ChatError as exc:
        return _chat_page(job_request, lead_id, 422, form, exc.message)
    if is_htmx():
        return _chat_page(job_request, lead_id)
    return redirect(url_for("requests_manage.chat", request_id=request_id, lead_id=lead_id), 303)
