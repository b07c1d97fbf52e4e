"""The console's home page: what waits for the platform."""

from __future__ import annotations

from flask import url_for
from flask_babel import format_timedelta
from werkzeug.wrappers import Response

from app.admin import overview
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.timeutil import utcnow
from app.web import render_page

#: The page of each queue of :data:`app.admin.overview.QUEUES` (endpoint, query arguments).
QUEUE_PAGES = {
    "moderation": ("admin.moderation_queue", {}),
    "verification": ("admin.verification_queue", {}),
    "disputes": ("admin.disputes", {"status": "todo"}),
    "fulfilment": ("admin.fulfilment", {}),
}


@bp.get("/")
@admin_required
def home() -> Response | str:
    """The console's start page: each queue waiting for the platform with how many items wait,
    how long the oldest has waited (in words, in the reader's language) and a link to it."""
    now = utcnow()
    queues = overview.waiting_work()
    ages = {q.key: format_timedelta(now - q.oldest, add_direction=False) for q in queues if q.oldest is not None}
    links = {key: url_for(endpoint, **args) for key, (endpoint, args) in QUEUE_PAGES.items()}
    return render_page("admin/home.html", queues=queues, ages=ages, links=links)
