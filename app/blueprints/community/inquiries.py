"""Inquiries on the business's host: "Message <business>" before booking.

- ``/message``: the form. A signed-in customer's message goes at once (303 to their
  conversation, ``/inquiries/<id>``, live over Socket.IO like booking chat); a guest gives a
  name and an email and is told to confirm it (the emailed link, ``/inquiry/<token>``, shows
  the message and a button that confirms and sends it; from then on the same link is their
  conversation page, and replies reach them by email). Rate-limited
  (:mod:`app.blueprints.community.limits`).
- ``/dashboard/inquiries/<id>``: staff read and reply (the inquiry also lists in the staff inbox).

Errors are inline (422); a blocked person reads why (403); another person's or business's
inquiry answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.community import bp
from app.blueprints.community.forms import GuestInquiryForm, InquiryForm
from app.blueprints.community.limits import guest_link_limits, inquiry_limits
from app.blueprints.realtime import broadcast
from app.catalog.translations import reader_locale_id
from app.chat import access, inquiries
from app.chat import service as chat
from app.chat.errors import ChatError, ConversationClosed, RateLimited
from app.chat.models import Conversation, Inquiry, Message, Participant
from app.community import blocks
from app.extensions import db
from app.notifications import chat_messages
from app.web import parse_uuid, render_page, tenant_required
from app.web.access import manager_required, staff_required
from app.web.effects import after_commit


def _signed_in() -> bool:
    return bool(current_user.is_authenticated)


def _form_page(form: Any, *, status: int = 200, error: str | None = None) -> Response:
    return render_page("community/inquiry_new.html", block="inquiry", status=status, tenant=g.tenant, form=form,
                       error=error, max_body=chat.MAX_BODY, signed_in=_signed_in())


@bp.route("/message", methods=["GET", "POST"])
@inquiry_limits
@tenant_required
def new_inquiry() -> Response:
    """Write to the business before booking (see the module docstring)."""
    if _signed_in():
        existing = inquiries.open_inquiry_of(current_user.id)
        if existing is not None and request.method == "GET":
            return redirect(url_for("community.my_inquiry", inquiry_id=existing.id), 303)
    form = InquiryForm() if _signed_in() else GuestInquiryForm()
    if request.method == "GET":
        if _signed_in() and blocks.is_blocked(current_user.id):
            return _form_page(form, status=403, error=blocks.BLOCKED_MESSAGE)
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    try:
        with db.session.begin_nested():
            if _signed_in():
                existing = inquiries.open_inquiry_of(current_user.id)
                if existing is not None:  # one conversation per person and business
                    msg = chat.post_message(inquiries.inquiry_conversation(existing),
                                            inquiries.asker_principal(existing, current_user.id), form.body.data)
                    inquiry = existing
                else:
                    inquiry, msg = inquiries.start_inquiry(form.body.data, user_id=current_user.id,
                                                           name=current_user.name or current_user.email,
                                                           email=current_user.email, locale=reader_locale_id())
            else:
                inquiry, msg = inquiries.start_inquiry(form.body.data, name=form.name.data, email=form.email.data,
                                                       locale=reader_locale_id())
    except ConversationClosed as exc:
        return _form_page(form, status=403, error=exc.message)
    except ChatError as exc:
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
            return _form_page(form, status=429 if isinstance(exc, RateLimited) else 422)
        return _form_page(form, status=429 if isinstance(exc, RateLimited) else 422, error=exc.message)
    if msg is not None:
        conv = inquiries.inquiry_conversation(inquiry)
        after_commit(broadcast_posted, conv, msg)
        return redirect(url_for("community.my_inquiry", inquiry_id=inquiry.id) + f"#m{msg.seq}", 303)
    return redirect(url_for("community.inquiry_sent"), 303)


@bp.get("/message/sent")
@tenant_required
def inquiry_sent() -> Response:
    """After a guest's message: check your email."""
    return render_page("community/inquiry_sent.html", tenant=g.tenant)


def broadcast_posted(conv: Conversation, msg: Message) -> None:
    """Send a new message and the receipts to the conversation's open pages, and tell the staff
    inbox. Run after the commit."""
    broadcast.message_posted(conv, msg)
    broadcast.receipts_changed(conv)


def _conversation_page(inquiry: Inquiry, principal: chat.Principal, *, post_url: str, back_url: str,
                       back_label: str, error: str | None = None, status: int = 200, body: str = "",
                       mark_read: bool = True, live: bool = False) -> Response:
    conv = inquiries.inquiry_conversation(inquiry)
    me = chat.join_conversation(conv, principal)
    before = me.last_read_seq
    if mark_read:
        chat.mark_read(conv, me)
        chat_messages.read_conversation_notifications(conv, principal)
    messages = [{**chat.message_payload(m), "at": m.created_at} for m in chat.recent_messages(conv)]
    if me.last_read_seq != before:
        after_commit(_broadcast_read, conv, me)
    blocked = principal.role == chat.CUSTOMER and blocks.is_blocked(principal.user_id, inquiry.email)
    return render_page(
        "community/inquiry.html", block="chat", status=status, tenant=g.tenant, inquiry=inquiry, conv=conv, me=me,
        principal=principal, messages=messages, receipts=chat.receipts(conv, principal.role), post_url=post_url,
        back_url=back_url, back_label=back_label, error=error, body=body, max_body=chat.MAX_BODY,
        realtime=live, last_seq=messages[-1]["seq"] if messages else 0,
        closed=blocks.BLOCKED_MESSAGE if blocked else None, pending=inquiry.confirmed_at is None)


def _broadcast_read(conv: Conversation, me: Participant) -> None:
    broadcast.receipts_changed(conv)
    broadcast.unread_changed(conv, me)


def _post(inquiry: Inquiry, principal: chat.Principal, **page: Any) -> Response:
    """POST a message from the page's form: 303 back to the page, or the page again with the
    error inline (422; 429 over the rate; 403 when blocked)."""
    conv = inquiries.inquiry_conversation(inquiry)
    body = request.form.get("body", "")
    try:
        with db.session.begin_nested():
            msg = chat.post_message(conv, principal, body)
    except ChatError as exc:
        status = 429 if isinstance(exc, RateLimited) else 403 if isinstance(exc, ConversationClosed) else 422
        return _conversation_page(inquiry, principal, error=exc.message, status=status, body=body, mark_read=False,
                                  **page)
    after_commit(broadcast_posted, conv, msg)
    return redirect(page["post_url"] + f"#m{msg.seq}", 303)


@bp.route("/inquiries/<inquiry_id>", methods=["GET", "POST"])
@tenant_required
def my_inquiry(inquiry_id: str) -> Response:
    """A signed-in customer's inquiry conversation (404 unless it is theirs)."""
    if not _signed_in():
        return redirect(url_for("auth.login", next=request.path))
    iid = parse_uuid(inquiry_id)
    inquiry = inquiries.get_inquiry(iid) if iid else None
    if inquiry is None or inquiry.user_id != current_user.id:
        abort(404)
    principal = inquiries.asker_principal(inquiry, current_user.id)
    page = {"post_url": url_for("community.my_inquiry", inquiry_id=inquiry.id), "back_url": "/",
            "back_label": _("Back to %(name)s", name=g.tenant.name), "live": True}
    if request.method == "POST":
        return _post(inquiry, principal, **page)
    return _conversation_page(inquiry, principal, **page)


@bp.route("/inquiry/<token>", methods=["GET", "POST"])
@guest_link_limits
@tenant_required
def guest_inquiry(token: str) -> Response:
    """A guest's inquiry by its emailed link: first a button that confirms the address and
    sends the waiting message (a GET changes nothing, so mail scanners confirm nothing), then
    the conversation."""
    inquiry = inquiries.inquiry_from_token(token)
    if inquiry is None:
        abort(404)
    principal = inquiries.asker_principal(inquiry)
    page = {"post_url": url_for("community.guest_inquiry", token=token), "back_url": "/",
            "back_label": _("Back to %(name)s", name=g.tenant.name)}
    if request.method == "POST" and request.form.get("action") == "confirm":
        try:
            with db.session.begin_nested():
                msg = inquiries.confirm_inquiry(inquiry)
        except ChatError as exc:
            return _conversation_page(inquiry, principal, error=exc.message, status=403, mark_read=False, **page)
        if msg is not None:
            after_commit(broadcast_posted, inquiries.inquiry_conversation(inquiry), msg)
        return redirect(page["post_url"], 303)
    if inquiry.confirmed_at is None:
        return render_page("community/inquiry_confirm.html", tenant=g.tenant, inquiry=inquiry, post_url=page["post_url"])
    if request.method == "POST":
        return _post(inquiry, principal, **page)
    return _conversation_page(inquiry, principal, **page)


@bp.route("/dashboard/inquiries/<inquiry_id>", methods=["GET", "POST"])
@staff_required
def staff_inquiry(inquiry_id: str) -> Response:
    """Staff's side of an inquiry (404 for another business's)."""
    iid = parse_uuid(inquiry_id)
    inquiry = inquiries.get_inquiry(iid) if iid else None
    if inquiry is None or inquiry.confirmed_at is None:
        abort(404)
    principal = access.staff_principal(current_user)
    page = {"post_url": url_for("community.staff_inquiry", inquiry_id=inquiry.id),
            "back_url": url_for("chat.staff_inbox"), "back_label": _("All messages"), "live": True}
    if request.method == "POST":
        return _post(inquiry, principal, **page)
    return _conversation_page(inquiry, principal, **page)


@bp.post("/dashboard/inquiries/<inquiry_id>/block")
@manager_required
def block_asker(inquiry_id: str) -> Response:
    """Block the person who wrote an inquiry (their account and email) from messaging,
    commenting and booking here."""
    iid = parse_uuid(inquiry_id)
    inquiry = inquiries.get_inquiry(iid) if iid else None
    if inquiry is None:
        abort(404)
    blocks.block_person(user_id=inquiry.user_id, email=inquiry.email, name=inquiry.name,
                        note="Blocked from an inquiry.", by=current_user.id)
    return redirect(url_for("community.staff_inquiry", inquiry_id=inquiry.id), 303)

