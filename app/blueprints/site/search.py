"""The apex search page (``/search``): a phone-first form (what, category, where, when, price,
rating, open now, sort) and the results as a list and on a Leaflet map.

Each state is a GET URL (shareable); HTMX requests get only the ``results`` block and push the
URL. A bad value re-renders with status 422 and the message beside its field. The list works
without JavaScript and without map tiles.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.blueprints.api.marketplace import SEARCH_LIMIT
from app.blueprints.site import bp
from app.extensions import limiter
from app.marketplace.category_names import category_name
from app.marketplace.search import (
    DEFAULT_RADIUS_KM,
    SearchInputError,
    SearchPage,
    SearchResult,
    categories_with_counts,
    parse_search,
    search,
)
from app.metrics.counters import count_search
from app.tenants.urls import tenant_url
from app.web import apex_only, render_page

#: The form's choices: radius (km), when, minimum rating, sort.
RADII = (2, 5, 10, 25, 50, 100)
WHEN = (("any", _l("Any time")), ("today", _l("Today")), ("week", _l("This week")))
RATINGS = (("", _l("Any rating")), ("3", _l("3+ stars")), ("4", _l("4+ stars")), ("4.5", _l("4.5+ stars")))
SORTS = (("relevance", _l("Best match")), ("distance", _l("Nearest")), ("rating", _l("Top rated")),
         ("price", _l("Lowest price")))
#: The page's own parameters (major units of money); everything else is the API's.
PAGE_PARAMS = ("q", "category", "near", "lat", "lon", "radius_km", "available", "min_price", "max_price",
               "min_rating", "open_now", "sort", "page")
#: Page params in major units -> search params in minor units (every currency offered has 2 decimals).
MONEY_PARAMS = {"min_price": "price_min", "max_price": "price_max"}


def search_args(args: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The search parameters of the page's query string (money in minor units), and the field of a
    money value that is not a whole amount (``None`` when all are)."""
    raw = {k: v for k, v in args.items() if k in PAGE_PARAMS and k not in MONEY_PARAMS}
    for page_name, name in MONEY_PARAMS.items():
        value = (args.get(page_name) or "").strip()
        if value:
            if not value.isdigit() or len(value) > 7:
                return raw, page_name
            raw[name] = str(int(value) * 100)
    return raw, None


def result_view(result: SearchResult) -> dict[str, Any]:
    """What the page shows of one result (plain values for the template and the map)."""
    row = result.row
    book = None
    if row.next_available is not None and row.next_service_id is not None:
        book = tenant_url(row.slug, f"/book/{row.next_service_id}/details?" + urlencode(
            {"staff": "any", "start": row.next_available.isoformat()}))
    return {
        "slug": row.slug, "name": row.name, "category": category_name(row.category_slug, row.category_name),
        "city": row.city,
        "url": tenant_url(row.slug), "distance_km": result.distance_km, "featured": result.featured,
        "rating_average": row.rating_average if row.rating_count else None, "rating_count": row.rating_count,
        "price_from": row.price_from_amount, "currency": row.price_currency,
        "next_available": row.next_available, "timezone": row.timezone, "book_url": book,
        "lat": row.latitude, "lon": row.longitude, "verified": row.verified,
    }


def map_points(results: list[dict[str, Any]]) -> str:
    """The results with a point as JSON for the map script (name, link, position, featured)."""
    return json.dumps([{"name": r["name"], "url": r["url"], "lat": r["lat"], "lon": r["lon"], "featured": r["featured"]}
                       for r in results if r["lat"] is not None])


def page_url(args: dict[str, str], **changes: Any) -> str:
    """``/search`` with ``args`` (the page's own parameters) and ``changes`` (``None`` removes)."""
    merged = {k: v for k, v in {**args, **changes}.items() if k in PAGE_PARAMS and v not in (None, "")}
    return "/search" + ("?" + urlencode(merged) if merged else "")


@bp.get("/search")
@apex_only
@limiter.limit(SEARCH_LIMIT)
def search_page() -> Response:
    """Find businesses: the form and a page of results (featured positions first), with the map."""
    args = {k: v for k, v in request.args.to_dict().items() if k in PAGE_PARAMS}
    count_search()  # search-to-booking conversion (app.metrics)
    raw, money_error = search_args(args)
    errors: dict[str, str] = {}
    found: SearchPage | None = None
    if money_error:
        errors[money_error] = _("Enter a whole amount, like 40.")
    else:
        try:
            found = search(parse_search(raw))
        except SearchInputError as exc:
            page_field = {v: k for k, v in MONEY_PARAMS.items()}.get(exc.field or "", exc.field or "q")
            errors[page_field] = exc.message
    featured = [result_view(r) for r in found.featured] if found else []
    results = [result_view(r) for r in found.results] if found else []
    context = {
        "args": args, "errors": errors, "page": found, "featured": featured, "results": results,
        "points": map_points(featured + results), "radii": RADII,
        "categories": [{**c, "name": category_name(str(c["slug"]), str(c["name"]))} for c in categories_with_counts()],
        "when": WHEN, "ratings": RATINGS, "sorts": SORTS, "default_radius": DEFAULT_RADIUS_KM,
        "page_url": page_url, "tile_url": current_app.config.get("MAP_TILE_URL", ""),
        "attribution": current_app.config.get("MAP_ATTRIBUTION", ""),
    }
    return render_page("site/search.html", block="results", status=422 if errors else 200, **context)
