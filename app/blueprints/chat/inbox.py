"""Staff inbox on the business's host: ``/dashboard/messages`` lists the booking
conversations (latest message first) with the unread count of the logged-in staff member,
and the dashboard sidebar shows their total unread count.

Works without JavaScript; the list and the badge re-load every 15 s by HTMX polling, and
``static/js/chat_inbox.js`` refreshes them at once when the staff room's ``chat:activity``
or the account's ``chat:unread`` Socket.IO event arrives. Same access as the dashboard:
anonymous to the login page, anyone but this business's staff 404.
"""

from __future__ import annotations

from flask import g
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.chat import bp
from app.chat import access
from app.chat import service as chat
from app.web import render_page
from app.web.access import staff_required

#: Seconds between HTMX refreshes of the inbox and the sidebar badge.
INBOX_POLL_SECONDS = 15


@bp.get("/dashboard/messages")
@staff_required
def staff_inbox() -> Response:
    """The inbox page (or, for HTMX, its ``inbox`` block)."""
    items = chat.list_inbox(current_user.id)
    total = sum(i.unread for i in items)
    return render_page("chat/inbox.html", block="inbox", items=items, inbox_total=total,
                       poll_seconds=INBOX_POLL_SECONDS)


@bp.get("/dashboard/messages/badge")
@staff_required
def staff_inbox_badge() -> Response:
    """Just the sidebar badge (HTMX polling target)."""
    return render_page("chat/_inbox_badge.html")


def staff_unread_total() -> int:
    """Total unread messages of the logged-in staff member on this business's host (0 for
    anyone else); computed once per request. Exposed to templates as ``staff_unread_total()``."""
    if "staff_unread_total" not in g:
        total = 0
        if g.get("tenant") is not None and current_user.is_authenticated and access.is_staff(current_user.id):
            total = chat.inbox_unread_total(current_user.id)
        g.staff_unread_total = total
    return g.staff_unread_total


@bp.app_context_processor
def _inbox_globals() -> dict[str, object]:
    return {"staff_unread_total": staff_unread_total, "inbox_poll_seconds": INBOX_POLL_SECONDS}
