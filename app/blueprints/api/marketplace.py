"""The marketplace endpoints of the JSON API on the platform's apex host: the category taxonomy
with counts, and search (:mod:`app.marketplace.search`). Business hosts answer 404 here.

Bad values answer 422 problem+json naming the field; a ``near`` that names no known place is a
422 that says so. Rate-limited per client IP (:data:`SEARCH_LIMIT`) on top of the global limit.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.blueprints.api import bp
from app.blueprints.api.marketplace_schemas import CategoryList, CategoryOut
from app.extensions import limiter
from app.marketplace.category_names import category_name
from app.marketplace.search import SearchInputError, SearchResult, categories_with_counts, parse_search, search
from app.tenants.urls import tenant_url
from app.web import apex_only, problem

#: Public marketplace reads per client IP.
SEARCH_LIMIT = "120 per minute"


def result_out(result: SearchResult) -> dict[str, Any]:
    """The API form of one search result as plain JSON values, in the shape of
    :class:`~app.blueprints.api.marketplace_schemas.SearchResultOut` (built directly, with no
    model per row, on the hot path of search; a test checks answers against the model)."""
    row = result.row
    price = ({"amount": row.price_from_amount, "currency": row.price_currency}
             if row.price_from_amount is not None and row.price_currency else None)
    average = None if not row.rating_count or row.rating_average is None else round(row.rating_average, 2)
    return {
        "slug": row.slug, "name": row.name, "category": row.category_slug, "url": tenant_url(row.slug),
        "distance_km": None if result.distance_km is None else round(result.distance_km, 2),
        "rating": {"average": average, "count": row.rating_count},
        "price_from": price, "next_available": rfc3339(row.next_available), "featured": result.featured,
        "location": {"lat": row.latitude, "lon": row.longitude, "city": row.city},
    }


def rfc3339(instant: datetime | None) -> str | None:
    """``instant`` (tz-aware) as RFC 3339 the way the API's models write it (``Z`` for UTC)."""
    if instant is None:
        return None
    text = instant.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json(model) -> Response:
    return current_app.response_class(model.model_dump_json(), mimetype="application/json")


@bp.get("/marketplace/categories")
@apex_only
@limiter.limit(SEARCH_LIMIT)
def marketplace_categories() -> Response:
    """``{"categories": [{"slug", "name", "count"}]}``: the active categories and how many listed
    businesses each has; names in the language of ``?lang=`` (``da``, ``en``), else of
    ``Accept-Language`` (a category an admin named keeps their name)."""
    language = request.args.get("lang")  # else the request's language (Accept-Language), as /services
    return _json(CategoryList(categories=[CategoryOut(**{**c, "name": category_name(str(c["slug"]), str(c["name"]),
                                                                                   language)})
                                          for c in categories_with_counts()]))


@bp.get("/marketplace/search")
@apex_only
@limiter.limit(SEARCH_LIMIT)
def marketplace_search() -> Response:
    """``{"results", "total", "page", "per_page"}``: businesses matching ``q``/``category`` within
    ``radius_km`` of ``lat``/``lon`` (or ``near``), filtered by ``available``, ``min_rating``,
    ``price_min``/``price_max``, ``open_now``; ordered by ``sort``; featured positions first."""
    try:
        query = parse_search(request.args.to_dict())
        page = search(query)
    except SearchInputError as exc:
        detail = exc.message if exc.field == "near" else _("The request has an invalid field: %(field)s.", field=exc.field)
        return problem(422, "Unprocessable Content", detail, errors=[{"field": exc.field, "message": exc.message}])
    body = {"results": [result_out(r) for r in [*page.featured, *page.results]], "total": page.total,
            "page": query.page, "per_page": query.per_page}  # the shape of SearchOut
    return current_app.response_class(json.dumps(body, separators=(",", ":"), ensure_ascii=False), mimetype="application/json")
