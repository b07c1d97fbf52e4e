"""Apex pages: landing page and business signup."""

from __future__ import annotations

from flask import g

from app.blueprints.site import bp
from app.web import render_page


@bp.get("/")
def landing():
    """Apex landing page; on a tenant host, the storefront home."""
    if g.get("tenant") is not None:
        from app.blueprints.storefront.views import home

        return home()
    return render_page("site/landing.html")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Business signup (placeholder until implemented)."""
    return render_page("site/landing.html")
