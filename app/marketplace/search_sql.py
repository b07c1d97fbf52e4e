"""The search statement of :func:`app.marketplace.search.search`, built once per shape.

A search's *shape* is which filters it uses (free text, category, a centre, the window, price
bounds, a minimum rating, open now); its *values* are bound parameters. Each shape's SQL is
written once per process (:func:`statement`), so a request only binds values: no SQLAlchemy
expression is built per request, and PostgreSQL (through psycopg's automatic prepared
statements) parses and plans each shape once per connection.

The statement reads only ``marketplace_listing`` (a platform read model without row-level
security) and returns, for every match, the :data:`RESULT_COLUMNS` a result shows plus what
ranking needs: ``text`` (text match 0-1), ``distance`` (km from the centre, ``NULL`` without
one) and ``in_window`` (a free slot in the asked window, or in the coming week when any time
was asked).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.geo.distance import EARTH_RADIUS_KM
from app.marketplace.geometry import chord_km, xyz

#: The listing columns a result carries (read by the page and the API by name).
RESULT_COLUMNS = ("business_id", "slug", "name", "category_slug", "category_name", "city", "latitude", "longitude",
                  "price_from_amount", "price_currency", "rating_average", "rating_count", "next_available",
                  "next_service_id", "timezone", "plan_tier", "verified")
#: Full-text configuration of queries (the same as the listing's document).
TS_CONFIG = "english"
#: Window choices that filter (``any`` does not).
FILTERING_WINDOWS = ("today", "week")

_EXACT = f"websearch_to_tsquery('{TS_CONFIG}'::regconfig, :q)"
_NEAR = "to_tsquery('simple'::regconfig, :fuzzy)"
_HERE = "cube(cast(:here as float8[]))"
_LOCAL_NOW = "timezone(timezone, cast(:now as timestamptz))"
_WINDOW_END = {
    "today": f"timezone(timezone, date_trunc('day', {_LOCAL_NOW}) + interval '1 day')",
    "week": "cast(:now as timestamptz) + interval '7 days'",
}
_TWO_R = f"cast({2 * EARTH_RADIUS_KM!r} as float8)"


@dataclass(frozen=True)
class Shape:
    """Which filters a search uses (each value bound separately): ``text`` free text that can
    match; ``category``; ``centre`` a point and radius; ``window`` one of ``any``/``today``/
    ``week``; ``price_min``/``price_max``/``min_rating`` bounds; ``open_now``."""

    text: bool = False
    category: bool = False
    centre: bool = False
    window: str = "any"
    price_min: bool = False
    price_max: bool = False
    min_rating: bool = False
    open_now: bool = False


@functools.lru_cache(maxsize=512)
def statement(shape: Shape) -> sa.TextClause:
    """The SQL of ``shape`` (cached per process). Bound parameters, used only when the shape
    needs them: ``q`` (free text as typed), ``fuzzy`` (a ``to_tsquery('simple', …)`` text),
    ``category`` (slug), ``here`` (the centre as :func:`app.marketplace.geometry.xyz`, km),
    ``chord`` (the radius as a chord, km), ``now`` (tz-aware UTC), ``price_min``/``price_max``
    (minor units), ``min_rating`` (stars).

    Raises:
        ValueError: an unknown ``shape.window``.
    """
    if shape.window not in ("any", *FILTERING_WINDOWS):
        raise ValueError(f"unknown window {shape.window!r}")
    conds = ["suspended is false", "unlisted is false"]
    text_score = "cast(1.0 as float8)"
    if shape.text:
        conds.append(f"search_document @@ {_NEAR}")
        text_score = (f"case when search_document @@ {_EXACT} "
                      f"then cast(0.7 as float8) + cast(0.3 as float8) * ts_rank_cd(search_document, {_EXACT}, 32) "
                      f"else cast(0.45 as float8) + cast(0.3 as float8) * ts_rank_cd(search_document, {_NEAR}, 32) "
                      "end")
    if shape.category:
        conds.append("category_slug = :category")
    distance = "cast(null as float8)"
    if shape.centre:
        conds.append(f"cube_enlarge({_HERE}, cast(:chord as float8), 3) @> earth")
        conds.append(f"cube_distance(earth, {_HERE}) <= cast(:chord as float8)")
        distance = f"{_TWO_R} * asin(least(cast(1.0 as float8), cube_distance(earth, {_HERE}) / {_TWO_R}))"
    in_window = f"(next_available is not null and next_available < {_WINDOW_END.get(shape.window, _WINDOW_END['week'])})"
    if shape.window in FILTERING_WINDOWS:
        conds.append(in_window)
    if shape.price_min:
        conds.append("price_from_amount >= :price_min")
    if shape.price_max:
        conds.append("price_from_amount <= :price_max")
    if shape.min_rating:
        conds.append("rating_count > 0")
        conds.append("rating_average >= cast(:min_rating as float8)")
    if shape.open_now:
        minute = (f"cast((extract(isodow from {_LOCAL_NOW}) - 1) * 1440 + extract(hour from {_LOCAL_NOW}) * 60 "
                  f"+ extract(minute from {_LOCAL_NOW}) as integer)")
        conds.append(f"opening_minutes @> {minute}")
    sql = (f"select {', '.join(RESULT_COLUMNS)}, {text_score} as text, {distance} as distance, "
           f"{in_window} as in_window from marketplace_listing where {' and '.join(conds)}")
    return sa.text(sql)


def bind(shape: Shape, *, q: str, fuzzy: str, category: str, centre: tuple[float, float] | None, radius_km: float,
         now: datetime, price_min: int | None, price_max: int | None, min_rating: float | None) -> dict[str, object]:
    """The bound values of :func:`statement` ``(shape)`` (only those it names)."""
    params: dict[str, object] = {}
    if shape.text:
        params.update(q=q, fuzzy=fuzzy)
    if shape.category:
        params["category"] = category
    if shape.centre and centre is not None:
        params.update(here=list(xyz(*centre)), chord=chord_km(radius_km))
    params["now"] = now  # in_window is always computed (ranking counts a free slot)
    if shape.price_min:
        params["price_min"] = price_min
    if shape.price_max:
        params["price_max"] = price_max
    if shape.min_rating:
        params["min_rating"] = min_rating
    return params
