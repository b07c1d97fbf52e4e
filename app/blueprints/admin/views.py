"""The console's home page."""

from __future__ import annotations

from werkzeug.wrappers import Response

from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.web import render_page


@bp.get("/")
@admin_required
def home() -> Response | str:
    """The console's start page: a link to every section."""
    return render_page("admin/home.html")
