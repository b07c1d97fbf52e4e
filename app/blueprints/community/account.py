"""A customer's conveniences and the apex feed.

- ``POST /account/favourites/<slug>`` (apex) and ``POST /favourite`` (a business's host, that
  business): mark or unmark a favourite (``favourite=1|0``); an HTMX request gets the heart
  back (``site/_favourite_button.html``), a plain form is sent back to ``next`` (a path).
  Anonymous visitors are sent to log in.
- ``/account/favourites`` (apex): the favourites and the recently viewed businesses.
- ``/feed`` (apex): posts from the favourites and from businesses near a point (``lat``/``lon``
  from the browser, or ``city``), newest first; ``radius_km`` 1–200 (default 25).
"""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.community import bp
from app.blueprints.community.limits import favourite_limits
from app.community import feed as feeds
from app.community import people
from app.extensions import db
from app.web import apex_only, is_htmx, render_page, tenant_required


def safe_next(default: str) -> str:
    """The form's ``next`` when it is a local path (never another host), else ``default``."""
    target = request.form.get("next") or request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _answer(slug: str, default_next: str) -> Response:
    if is_htmx():
        return render_template("site/_favourite_button.html", slug=slug)  # type: ignore[return-value]
    return redirect(safe_next(default_next), 303)


@bp.post("/account/favourites/<slug>")
@favourite_limits
@apex_only
def toggle_favourite(slug: str) -> Response:
    """Mark or unmark the business ``slug`` as a favourite (apex)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=safe_next(url_for("community.favourites"))))
    business = people.business_by_slug(slug)
    if business is None:
        abort(404)
    people.set_favourite(current_user.id, business.id, request.form.get("favourite") == "1")
    g.pop("favourite_slugs", None)
    return _answer(business.slug, url_for("community.favourites"))


@bp.post("/favourite")
@favourite_limits
@tenant_required
def toggle_favourite_here() -> Response:
    """Mark or unmark the business of this host as a favourite."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=safe_next("/")))
    people.set_favourite(current_user.id, g.tenant.id, request.form.get("favourite") == "1")
    return _answer(g.tenant.slug, "/")


@bp.get("/account/favourites")
@apex_only
@login_required
def favourites() -> Response:
    """My favourite businesses and the ones I looked at lately."""
    favs = people.favourites(current_user.id)
    recent = people.recently_viewed(current_user.id)
    db.session.rollback()
    return render_page("community/favourites.html", block="favourites", favourites=favs, recent=recent)


def _place() -> tuple[feeds.Place | None, str | None]:
    """The feed's point from the query (``lat``/``lon`` or ``city``) and an error sentence."""
    lat, lon, city = request.args.get("lat"), request.args.get("lon"), (request.args.get("city") or "").strip()
    if lat or lon:
        try:
            la, lo = float(lat or ""), float(lon or "")
        except ValueError:
            return None, _("The location is not valid.")
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            return None, _("The location is not valid.")
        return feeds.Place("your location", la, lo), None
    if city:
        found = feeds.find_city(city[:100])
        return (found, None) if found is not None else (None, _("We could not find a city called “%(city)s”.", city=city[:100]))
    return None, None


@bp.get("/feed")
@apex_only
def feed() -> Response:
    """Posts from my favourite businesses and from businesses near a place, newest first."""
    place, error = _place()
    try:
        radius = float(request.args.get("radius_km") or feeds.NEAR_KM)
    except ValueError:
        radius, error = feeds.NEAR_KM, _("The radius must be a number of kilometres.")
    user_id = current_user.id if current_user.is_authenticated else None
    items = feeds.feed(user_id, place, radius_km=radius)
    db.session.rollback()
    return render_page("community/feed.html", block="feed", status=422 if error else 200, items=items, place=place,
                       error=error, city=request.args.get("city") or "", radius=int(min(max(radius, 1), 200)))
