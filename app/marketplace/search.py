"""Apex search over ``marketplace_listing`` (never over tenant tables).

:func:`parse_search` turns raw parameters (the API's query string, the search page's form) into a
:class:`SearchQuery` or raises :class:`SearchInputError` naming the field; :func:`search` filters
in PostgreSQL (full text + trigram similarity, radius through earthdistance's GiST index,
category, window, price, rating, open now), then orders the matches with
:mod:`app.marketplace.ranking` and picks the page's featured positions.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.config import config_str
from app.errors import InputError
from app.extensions import db
from app.geo import GeocoderUnavailable, PlaceNotFound, geocode
from app.marketplace.models import MarketplaceListing as L
from app.marketplace.ranking import SORTS, Candidate, Prior, pick_featured, rank, request_seed
from app.marketplace.search_sql import RESULT_COLUMNS, Shape, bind, statement
from app.tenants.models import MarketplaceCategory
from app.tenants.roles import read_platform_tables
from app.timeutil import utcnow

DEFAULT_RADIUS_KM = 25
MAX_RADIUS_KM = 200
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
#: The "when" choices: any time, a free slot today (the business's day), in the next 7 days.
WINDOWS = ("any", "today", "week")


#: Seconds the taxonomy's slugs are kept in this process for checking ``category``.
CATEGORY_CACHE_SECONDS = 60
_category_cache: dict[str, tuple[float, frozenset[str]]] = {}
#: Query words whose stems and near words are kept in this process (at most this many).
WORD_CACHE_SIZE = 10_000
_word_cache: dict[tuple[str, str], tuple[float, list[str]]] = {}


class SearchInputError(InputError):
    """A search parameter that cannot be used; ``field`` names it (``lat``, ``near``, …)."""


class NearUnresolvable(SearchInputError):
    """``near`` names no place Plaza can find."""

    field = "near"


@dataclass(frozen=True)
class SearchQuery:
    """A validated search. ``lat``/``lon`` WGS 84 degrees (both or neither) with ``radius_km``
    (1-200); ``price_min``/``price_max`` minor units; ``min_rating`` stars 1-5; ``available``
    one of :data:`WINDOWS`; ``sort`` one of :data:`app.marketplace.ranking.SORTS`."""

    q: str = ""
    category: str = ""
    lat: float | None = None
    lon: float | None = None
    near: str = ""
    radius_km: float = DEFAULT_RADIUS_KM
    available: str = "any"
    price_min: int | None = None
    price_max: int | None = None
    min_rating: float | None = None
    open_now: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def params(self) -> dict[str, object]:
        """The query as primitives (the rotation seed and shareable URLs are built from them)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class SearchResult:
    """One result: the listing ``row`` (:data:`app.marketplace.search_sql.RESULT_COLUMNS` by
    name), ``distance_km`` (``None`` without a centre) and whether it stands in a ``featured``
    position."""

    row: sa.Row
    distance_km: float | None
    featured: bool = False


@dataclass
class SearchPage:
    """A page of results: ``featured`` (at most two) then ``results``, the page's organic results
    without those already shown as featured on it; ``total`` counts the organic matches; the
    centre used."""

    query: SearchQuery
    results: list[SearchResult] = field(default_factory=list)
    featured: list[SearchResult] = field(default_factory=list)
    total: int = 0
    centre: tuple[float, float] | None = None

    @property
    def pages(self) -> int:
        """How many pages the organic results fill (at least 1)."""
        return max(1, math.ceil(self.total / self.query.per_page))


def _number(raw: dict[str, str], name: str, kind: type, lo: float, hi: float,
            message: Callable[[], str]) -> float | int | None:
    """``raw[name]`` as ``kind`` within ``lo``..``hi``; ``None`` when absent. ``message`` makes
    the (translated) error only when one is raised: most searches are valid."""
    value = (raw.get(name) or "").strip()
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise SearchInputError(message(), name) from None
    if isinstance(number, float) and not math.isfinite(number) or not lo <= number <= hi:
        raise SearchInputError(message(), name)
    return number


def parse_search(raw: dict[str, str], known_categories: frozenset[str] | set[str] | None = None) -> SearchQuery:
    """A :class:`SearchQuery` from raw text parameters (missing or empty ones take defaults).

    ``price_min``/``price_max`` are minor units. ``known_categories`` (default: the taxonomy)
    checks ``category``.

    Raises:
        SearchInputError: the first bad value, ``field`` naming its parameter.
    """
    q = (raw.get("q") or "").strip()
    if len(q) > 100:
        raise SearchInputError(_("Search for at most 100 characters."), "q")
    category = (raw.get("category") or "").strip()
    if category:
        known = known_categories if known_categories is not None else category_slugs()
        if category not in known:
            raise SearchInputError(_("There is no such category."), "category")
    lat = _number(raw, "lat", float, -90, 90, lambda: _("Latitude is a number of degrees from -90 to 90."))
    lon = _number(raw, "lon", float, -180, 180, lambda: _("Longitude is a number of degrees from -180 to 180."))
    if (lat is None) != (lon is None):
        raise SearchInputError(_("Give both latitude and longitude."), "lon" if lon is None else "lat")
    near = (raw.get("near") or "").strip()
    if len(near) > 100:
        raise SearchInputError(_("A place is at most 100 characters."), "near")
    radius = _number(raw, "radius_km", float, 1, MAX_RADIUS_KM,
                     lambda: _("The radius is a number of km from 1 to %(max)s.", max=MAX_RADIUS_KM))
    available = (raw.get("available") or "any").strip()
    if available not in WINDOWS:
        raise SearchInputError(_("When is one of: any, today, week."), "available")
    price_min = _number(raw, "price_min", int, 0, 10**9, lambda: _("The lowest price is a whole amount of minor units."))
    price_max = _number(raw, "price_max", int, 0, 10**9, lambda: _("The highest price is a whole amount of minor units."))
    if price_min is not None and price_max is not None and price_min > price_max:
        raise SearchInputError(_("The highest price is below the lowest."), "price_max")
    min_rating = _number(raw, "min_rating", float, 1, 5, lambda: _("The minimum rating is a number of stars from 1 to 5."))
    open_now = (raw.get("open_now") or "").strip().lower()
    if open_now not in ("", "0", "1", "true", "false", "on", "y", "n"):
        raise SearchInputError(_("Open now is true or false."), "open_now")
    sort = (raw.get("sort") or "relevance").strip()
    if sort not in SORTS:
        raise SearchInputError(_("Sort is one of: relevance, distance, rating, price."), "sort")
    page = _number(raw, "page", int, 1, 1000, lambda: _("The page is a whole number from 1 to 1000."))
    per_page = _number(raw, "per_page", int, 1, MAX_PER_PAGE,
                       lambda: _("Per page is a whole number from 1 to %(max)s.", max=MAX_PER_PAGE))
    return SearchQuery(q=q, category=category, lat=lat, lon=lon, near=near,
                       radius_km=radius if radius is not None else DEFAULT_RADIUS_KM, available=available,
                       price_min=price_min, price_max=price_max, min_rating=min_rating,
                       open_now=open_now in ("1", "true", "on", "y"), sort=sort, page=page or 1,
                       per_page=per_page or DEFAULT_PER_PAGE)


def category_slugs() -> frozenset[str]:
    """The slugs of the taxonomy's categories (retired ones included: old links keep working),
    kept for :data:`CATEGORY_CACHE_SECONDS` in this process (tests and admin edits see a change
    within that time)."""
    key = str(db.engine.url)
    hit = _category_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CATEGORY_CACHE_SECONDS:
        return hit[1]
    slugs = read_platform_tables(lambda conn: frozenset(conn.scalars(sa.select(MarketplaceCategory.slug))))
    _category_cache[key] = (time.monotonic(), slugs)
    return slugs


def categories_with_counts() -> list[dict[str, object]]:
    """The active categories in display order with how many listed businesses each has:
    ``[{"slug", "name", "count"}]`` (read like search: committed data, no transaction)."""
    count = (sa.select(sa.func.count()).where(L.category_slug == MarketplaceCategory.slug, L.suspended.is_(False),
                                              L.unlisted.is_(False)).scalar_subquery())
    stmt = (sa.select(MarketplaceCategory.slug, MarketplaceCategory.name, count)
            .where(MarketplaceCategory.active.is_(True)).order_by(MarketplaceCategory.position))
    rows = read_platform_tables(lambda conn: conn.execute(stmt).all())
    return [{"slug": s, "name": n, "count": c} for s, n, c in rows]


def resolve_near(text: str) -> tuple[float, float]:
    """The point (lat, lon) of a typed place (a city, a postcode or an address): the geocoding
    gateway (:func:`app.geo.geocode`); failing that (a neighbourhood it does not know, or the
    service unreachable), the centre of the listed businesses in that city or postcode.

    Raises:
        NearUnresolvable: no place by that name.
    """
    try:
        point = geocode(text)
        return point.lat, point.lon
    except (PlaceNotFound, GeocoderUnavailable):
        pass
    key = text.strip().lower()
    postcode = key.replace(" ", "").upper()
    stmt = (sa.select(sa.func.avg(L.latitude), sa.func.avg(L.longitude))
            .where(L.latitude.is_not(None), sa.or_(sa.func.lower(L.city) == key,
                                                   sa.func.replace(sa.func.upper(L.postcode), " ", "") == postcode)))
    found = read_platform_tables(lambda conn: conn.execute(stmt).one())
    if found[0] is None:
        raise NearUnresolvable(_("Cannot resolve the place “%(place)s”: try a city name, a postcode, "
                                 "or your location.", place=text.strip()))
    return float(found[0]), float(found[1])


#: How many known words a query word may stand for (nearest first), and how alike they must be.
FUZZY_WORDS = 4
FUZZY_SIMILARITY = 0.3
FUZZY_SQL = sa.text(
    "select t.tok, s.stems, case when exists (select 1 from marketplace_word w where w.word = any(s.stems)) "
    "then cast('{}' as text[]) else array(select w.word from marketplace_word w "
    "where left(w.word, 1) = left(t.tok, 1) and similarity(w.word, t.tok) >= :alike "
    "order by similarity(w.word, t.tok) desc, w.word limit :n) end as near "
    "from unnest(cast(:tokens as text[])) with ordinality as t(tok, i) "
    "cross join lateral (select tsvector_to_array(to_tsvector('english', t.tok)) as stems) s order by t.i")


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _alternatives(tokens: list[str], conn: sa.Connection) -> dict[str, list[str]]:
    """Each token's stems and near words (:data:`FUZZY_SQL`, asked on ``conn``), from this
    process's cache when looked up less than :data:`CATEGORY_CACHE_SECONDS` ago (a new listing's
    words count within a minute, like the rest of the read model)."""
    now, engine = time.monotonic(), str(db.engine.url)
    out: dict[str, list[str]] = {}
    missing = []
    for tok in tokens:
        hit = _word_cache.get((engine, tok))
        if hit is not None and now - hit[0] < CATEGORY_CACHE_SECONDS:
            out[tok] = hit[1]
        else:
            missing.append(tok)
    if missing:
        if len(_word_cache) > WORD_CACHE_SIZE:
            _word_cache.clear()
        params = {"tokens": missing, "n": FUZZY_WORDS, "alike": FUZZY_SIMILARITY}
        for tok, stems, near in conn.execute(FUZZY_SQL, params):
            out[tok] = list(dict.fromkeys([*(stems or []), *(near or [])]))
            _word_cache[(engine, tok)] = (now, out[tok])
    return out


def clear_caches() -> None:
    """Forget this process's cached category slugs and query words (tests, after changing data)."""
    _category_cache.clear()
    _word_cache.clear()


def text_query(q: str, conn: sa.Connection) -> str:
    """A ``to_tsquery('simple', …)`` text for free text ``q`` that forgives misspellings: every
    word of ``q`` must match (AND) as its own stem or, when no listing has that stem, as one of
    the :data:`FUZZY_WORDS` words of the listings' vocabulary (``marketplace_word``) with the same
    first letter most similar to it by trigrams (pg_trgm), so ``barbr`` finds ``barber``. Empty
    when no word of ``q`` can match anything. Words not looked up in the last minute are asked
    on ``conn`` (any connection that can read ``marketplace_word``)."""
    tokens = list(dict.fromkeys(re.findall(r"\w+", q.lower())))[:8]
    if not tokens:
        return ""
    found = _alternatives(tokens, conn)
    groups = ["(" + " | ".join(_lexeme(a) for a in found[tok]) + ")" for tok in tokens if found.get(tok)]
    return " & ".join(groups)


def prior() -> Prior:
    """The Bayesian rating prior from the settings (``MARKETPLACE_RATING_PRIOR_MEAN`` / ``_WEIGHT``)."""
    return Prior(float(config_str("MARKETPLACE_RATING_PRIOR_MEAN", "4.0")),
                 float(config_str("MARKETPLACE_RATING_PRIOR_WEIGHT", "10")))


def shape_of(query: SearchQuery, fuzzy: str, centre: tuple[float, float] | None) -> Shape:
    """The statement shape (:class:`app.marketplace.search_sql.Shape`) of ``query`` with its
    ``fuzzy`` text query (:func:`text_query`) and resolved ``centre``."""
    return Shape(text=bool(fuzzy), category=bool(query.category), centre=centre is not None, window=query.available,
                 price_min=query.price_min is not None, price_max=query.price_max is not None,
                 min_rating=query.min_rating is not None, open_now=query.open_now)


def _matches(conn: sa.Connection, query: SearchQuery, centre: tuple[float, float] | None,
             now: datetime) -> tuple[str, list[sa.Row]]:
    """The fuzzy text query and every matching listing row (the statement of the query's shape)."""
    fuzzy = text_query(query.q, conn) if query.q else ""
    if query.q and not fuzzy:
        return fuzzy, []
    shape = shape_of(query, fuzzy, centre)
    rows = conn.execute(statement(shape), bind(
        shape, q=query.q, fuzzy=fuzzy, category=query.category, centre=centre, radius_km=query.radius_km, now=now,
        price_min=query.price_min, price_max=query.price_max, min_rating=query.min_rating)).all()
    return fuzzy, rows


#: Positions in a match row (:data:`app.marketplace.search_sql.RESULT_COLUMNS`, then the scores).
_AT = {name: i for i, name in enumerate((*RESULT_COLUMNS, "text", "distance", "in_window"))}


#: Where a :class:`~app.marketplace.ranking.Candidate`'s fields are in a match row.
_CANDIDATE_AT = tuple(_AT[k] for k in ("business_id", "text", "distance", "rating_average", "rating_count",
                                       "in_window", "price_from_amount", "plan_tier", "name"))


def _candidates(rows: list[sa.Row]) -> list[Candidate]:
    """A :class:`~app.marketplace.ranking.Candidate` per match row, read by position: a search
    near a city centre can match a few hundred listings, and this runs for each of them."""
    i_id, i_text, i_dist, i_avg, i_count, i_win, i_price, i_tier, i_name = _CANDIDATE_AT
    return [Candidate(r[i_id], float(r[i_text]), None if r[i_dist] is None else float(r[i_dist]), r[i_avg],
                      r[i_count], bool(r[i_win]), r[i_price], r[i_tier], r[i_name]) for r in rows]


def search(query: SearchQuery, now: datetime | None = None) -> SearchPage:
    """Run ``query``: the page of organic results and its featured positions. Reads only the
    platform tables ``marketplace_listing`` and ``marketplace_word``, on a connection of their
    own (:func:`app.tenants.roles.read_platform_tables`: one round trip per statement, committed
    data only), with the statement of the query's shape (:mod:`app.marketplace.search_sql`).

    Raises:
        NearUnresolvable: ``near`` given without ``lat``/``lon`` and it names no known place.
    """
    now = now or utcnow()
    centre = (query.lat, query.lon) if query.lat is not None else None
    if centre is None and query.near:
        centre = resolve_near(query.near)
    fuzzy, rows = read_platform_tables(lambda conn: _matches(conn, query, centre, now))
    if query.q and not fuzzy:  # only words that match nothing (e.g. "the")
        return SearchPage(query=query, centre=centre)
    by_id = {r[_AT["business_id"]]: r for r in rows}
    candidates = _candidates(rows)
    seed = request_seed(query.params(), now)
    ordered = rank(candidates, seed, query.sort, query.radius_km, prior())
    start = (query.page - 1) * query.per_page
    page = ordered[start:start + query.per_page]
    featured = pick_featured(candidates, seed, query.page) if page else []
    shown = {c.id for c in featured}
    return SearchPage(
        query=query, total=len(ordered), centre=centre,
        results=[SearchResult(by_id[c.id], c.distance_km) for c in page if c.id not in shown],
        featured=[SearchResult(by_id[c.id], c.distance_km, featured=True) for c in featured])


def listing_ids(page: SearchPage) -> list[uuid.UUID]:
    """The business ids of a page's featured then organic results (for tests and logs)."""
    return [r.row.business_id for r in [*page.featured, *page.results]]
