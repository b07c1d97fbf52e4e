"""Conversation pages. Every page works without JavaScript (the form posts and the page
re-renders); ``static/js/chat.js`` upgrades it to Socket.IO when the visitor is logged in,
or is the booking's guest on the manage-link page (the socket then carries the manage token
in its ``auth`` payload; see :mod:`app.blueprints.realtime.connect`).

- ``/account/messages`` and ``/account/messages/<tenant_id>/<booking_id>`` on the apex: the
  logged-in customer's conversations about their bookings at any business.
- ``/manage/<token>/chat`` on the business's host: the customer by the booking's manage link
  (while it works: an expired link answers the "link expired" page, 410).
- ``/dashboard/bookings/<booking_id>/chat`` on the business's host: its staff.

Opening a conversation marks it read. Another tenant's or another person's conversation
answers 404. Once a booking is cancelled its customer can still read the conversation but
no longer write (the chat domain's rule, the same on Socket.IO): the page shows why instead
of the form, and a post answers 409 with that message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from app.blueprints.chat import bp
from app.blueprints.chat.forms import MessageForm
from app.blueprints.realtime import broadcast
from app.booking.models import Booking, Customer
from app.booking.service import manage_token, open_manage_link
from app.catalog.models import Service
from app.chat import access
from app.chat import service as chat
from app.chat.errors import ChatError, ConversationClosed, RateLimited
from app.chat.inbox_queries import customer_conversations
from app.chat.models import Conversation, Message, Participant
from app.customers.ownership import owns_booking
from app.extensions import db
from app.notifications import center, chat_messages
from app.realtime import presence
from app.redis_client import get_redis
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.web import apex_only, get_or_404, parse_uuid, render_page
from app.web.access import staff_required
from app.web.effects import after_commit


@dataclass(frozen=True)
class ConversationRow:
    """One conversation in the customer's list."""

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    business: str
    service: str
    starts_at: Any
    timezone: str
    unread: int
    url: str
    conversation_id: str = ""


def _render(tenant: Tenant, booking: Booking, principal: chat.Principal, *, post_url: str, back_url: str,
            back_label: str, form: MessageForm | None = None, error: str | None = None, status: int = 200,
            mark_read: bool = True, guest_token: str | None = None) -> Response:
    """Load (or create) the conversation, join it, mark it read (and the reader's new-message
    notifications about it, pushing their badge), commit, and render the page.

    ``guest_token`` (manage-link page, visitor not acting through an account): the page goes
    live with that token as the socket's credential while the booking may still chat."""
    conv = chat.conversation_for_booking(booking.id)
    me = chat.join_conversation(conv, principal)
    before = me.last_read_seq
    notes_read = False
    if mark_read:
        chat.mark_read(conv, me)
        notes_read = chat_messages.read_conversation_notifications(conv, principal)
    messages = [{**chat.message_payload(m), "at": m.created_at} for m in chat.recent_messages(conv)]
    customer_name = db.session.scalar(sa.select(Customer.name).where(Customer.id == booking.customer_id)) or ""
    receipts = chat.receipts(conv, principal.role)
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    try:
        online = presence.online(get_redis(), conv.tenant_id, conv.id)
    except RedisError:  # presence is best effort on the page
        online = set()
    others_online = bool(online - {str(me.id)}) if online else False
    user_live = current_user.is_authenticated and principal.user_id is not None
    live_token = guest_token if (guest_token and not user_live and access.guest_may_chat(booking)) else ""
    closed = chat.closed_reason(conv, principal)
    ctx = {
        "tenant": tenant, "booking": booking, "service": service, "conv": conv, "me": me, "principal": principal,
        "messages": messages, "receipts": receipts, "post_url": post_url, "back_url": back_url,
        "back_label": back_label, "form": form or MessageForm(formdata=None), "error": error,
        "others_online": others_online, "other_label": "the business" if principal.role == chat.CUSTOMER
        else "the customer", "max_body": chat.MAX_BODY,
        # A closed conversation stays live, read-only, for a signed-in customer: the business
        # may still write (say, why it cancelled). A guest's live link ends with the booking.
        "realtime": user_live or bool(live_token), "live_token": live_token,
        "last_seq": messages[-1]["seq"] if messages else 0, "customer_name": customer_name,
        "closed": closed,
    }
    # Live updates go out once the request has committed (never for a rolled-back answer);
    # they are best effort: the page and the badge also refresh on the next load or poll.
    if me.last_read_seq != before:
        after_commit(broadcast_read, conv, me)
    if notes_read and principal.user_id is not None:
        after_commit(center.push_badge, principal.user_id)
    return render_page("chat/conversation.html", block="chat", status=status, **ctx)


def broadcast_read(conv: Conversation, me: Participant) -> None:
    """Tell the conversation's open pages that ``me`` read up to their last message (receipts
    and the reader's unread counts). Run after the commit (:func:`app.web.effects.after_commit`)."""
    broadcast.receipts_changed(conv)
    broadcast.unread_changed(conv, me)


def broadcast_posted(conv: Conversation, msg: Message) -> None:
    """Send a new message and the updated receipts to the conversation's open pages. Run after
    the commit (:func:`app.web.effects.after_commit`)."""
    broadcast.message_posted(conv, msg)
    broadcast.receipts_changed(conv)


def _handle(tenant: Tenant, booking: Booking, principal: chat.Principal, *, post_url: str, back_url: str,
            back_label: str, guest_token: str | None = None) -> Response:
    """GET renders; POST posts the form's message then redirects (303) back to the page,
    or re-renders with the error beside the field (422) and the text kept. ``guest_token``
    as in :func:`_render`."""
    if request.method == "GET":
        return _render(tenant, booking, principal, post_url=post_url, back_url=back_url, back_label=back_label,
                       guest_token=guest_token)
    form = MessageForm()
    if not form.validate():
        abort(400)
    conv = chat.conversation_for_booking(booking.id)
    try:
        with db.session.begin_nested():  # a refused message leaves nothing for the error page to show
            msg = chat.post_message(conv, principal, form.body.data)
    except ChatError as exc:
        status = 429 if isinstance(exc, RateLimited) else 409 if isinstance(exc, ConversationClosed) else 422
        return _render(tenant, booking, principal, post_url=post_url, back_url=back_url, back_label=back_label,
                       form=form, error=exc.message, status=status, mark_read=False, guest_token=guest_token)
    after_commit(broadcast_posted, conv, msg)  # the message is stored; live delivery catches up on reconnect
    return redirect(post_url + f"#m{msg.seq}", 303)


# --------------------------------------------------------------------------- tenant host


@bp.route("/dashboard/bookings/<booking_id>/chat", methods=["GET", "POST"])
@staff_required
def staff_conversation(booking_id: str) -> Response:
    """Staff's conversation with the customer of a booking."""
    booking = get_or_404(Booking, booking_id)
    url = url_for("chat.staff_conversation", booking_id=booking.id)
    return _handle(g.tenant, booking, access.staff_principal(current_user), post_url=url,
                   back_url=url_for("dashboard.booking_detail", booking_id=booking.id), back_label=_("Back to the booking"))


@bp.route("/manage/<token>/chat", methods=["GET", "POST"])
def manage_conversation(token: str) -> Response:
    """The customer's conversation about a booking, by its signed manage link (an expired link:
    :class:`~app.booking.errors.ManageLinkExpired`, the storefront's "link expired" page)."""
    if g.get("tenant") is None:
        abort(404)
    booking = open_manage_link(token)
    if booking is None:
        abort(404)
    user = current_user if current_user.is_authenticated and owns_booking(current_user, booking) else None
    return _handle(g.tenant, booking, access.customer_principal(booking, user),
                   post_url=url_for("chat.manage_conversation", token=token),
                   back_url=url_for("storefront.manage", token=token), back_label=_("Back to your booking"),
                   guest_token=token)


# --------------------------------------------------------------------------- apex account


@bp.get("/account/messages")
@apex_only
@login_required
def my_conversations() -> Response:
    """A conversation per booking of mine at any business (newest booking first), with the
    number of unread messages; opening one starts it when needed."""
    out = [ConversationRow(c.tenant_id, c.booking_id, c.business, c.service, c.starts_at, c.timezone, c.unread,
                           url_for("chat.my_conversation", tenant_id=c.tenant_id, booking_id=c.booking_id),
                           str(c.conversation_id) if c.conversation_id is not None else "")
           for c in customer_conversations(current_user)]
    db.session.rollback()
    return render_page("chat/list.html", block="list", conversations=out)


@bp.route("/account/messages/<tenant_id>/<booking_id>", methods=["GET", "POST"])
@apex_only
@login_required
def my_conversation(tenant_id: str, booking_id: str) -> Response:
    """My conversation with a business about one of my bookings (404 unless it is mine)."""
    tid, bid = parse_uuid(tenant_id), parse_uuid(booking_id)
    tenant = db.session.get(Tenant, tid) if tid else None
    if tenant is None or tenant.suspended_at is not None or bid is None:
        abort(404)
    with tenant_scope(tenant.id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == bid))
        principal = booking and access.booking_principal(booking, current_user, as_staff=False)
        if booking is None or principal is None:
            abort(404)
        url = url_for("chat.my_conversation", tenant_id=tenant.id, booking_id=booking.id)
        return _handle(tenant, booking, principal, post_url=url, back_url=url_for("chat.my_conversations"),
                       back_label=_("All conversations"))


def manage_chat_url(booking: Booking) -> str:
    """The manage-link chat URL of a booking (for templates and emails)."""
    return url_for("chat.manage_conversation", token=manage_token(booking))
