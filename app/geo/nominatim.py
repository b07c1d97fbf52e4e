"""The Nominatim geocoder: any server speaking Nominatim's ``/search`` JSON protocol at
``GEOCODER_URL`` (OpenStreetMap's public one, or a self-hosted one).

Polite by construction, as the public server's usage policy asks:

* at most one request a second from all of Plaza's processes together: each request first takes
  a Redis slot key that lives one second (``SET NX PX 1000``), waiting up to
  :data:`WAIT_SECONDS` for it;
* answers (and "not found") cached in Redis for ``GEOCODER_CACHE_SECONDS``, so a place is asked
  for once;
* a descriptive ``User-Agent`` naming Plaza and ``GEOCODER_CONTACT``.
"""

from __future__ import annotations

import hashlib
import json
import time

import requests
from flask import current_app

from app.config import config_str
from app.geo.types import GeocoderUnavailable, GeoPoint, PlaceNotFound
from app.redis_client import get_redis

#: Redis key of the one-request-a-second slot, shared by every process.
SLOT_KEY = "plaza:geo:nominatim:slot"
#: Redis key prefix of cached answers.
CACHE_PREFIX = "plaza:geo:nominatim:cache:"
#: Longest wait for the request slot, seconds.
WAIT_SECONDS = 10.0
#: HTTP timeout (connect, read), seconds.
TIMEOUT = (3.05, 10.0)
#: Nominatim's ``addresstype`` / ``type`` -> :data:`app.geo.types.PRECISIONS`.
PRECISION_OF = {
    "house": "address", "building": "address", "road": "address", "amenity": "address", "shop": "address",
    "postcode": "postcode",
    "city": "city", "town": "city", "village": "city", "hamlet": "city", "suburb": "city", "neighbourhood": "city",
    "quarter": "city", "borough": "city", "city_district": "city", "municipality": "city",
}


def user_agent() -> str:
    """The ``User-Agent`` of Plaza's geocoding requests: ``Plaza/1.0 (+<contact>)``."""
    contact = config_str("GEOCODER_CONTACT", "") or config_str("MAIL_FROM", "")
    return f"Plaza/1.0 (booking marketplace; +{contact})"


def _cache_key(query: str, country: str | None) -> str:
    digest = hashlib.sha256(f"{(country or '').upper()}|{query.casefold()}".encode()).hexdigest()[:32]
    return CACHE_PREFIX + digest


def _take_slot() -> None:
    """Wait for this second's request slot (at most one request a second across processes).

    Raises:
        GeocoderUnavailable: no slot within :data:`WAIT_SECONDS`.
    """
    redis = get_redis()
    deadline = time.monotonic() + WAIT_SECONDS
    while not redis.set(SLOT_KEY, "1", nx=True, px=1000):
        wait_ms = redis.pttl(SLOT_KEY)
        if time.monotonic() + max(wait_ms, 10) / 1000 > deadline:
            raise GeocoderUnavailable("Finding places on the map is busy; try again in a moment.")
        time.sleep(max(wait_ms, 10) / 1000)


def _point(hit: dict) -> GeoPoint:
    kind = hit.get("addresstype") or hit.get("type") or ""
    return GeoPoint(float(hit["lat"]), float(hit["lon"]), str(hit.get("display_name") or ""),
                    PRECISION_OF.get(kind, "area"))


def _ask(query: str, country: str | None) -> dict | None:
    """Nominatim's best hit for ``query``, or ``None``.

    Raises:
        GeocoderUnavailable: the service failed or answered something else than JSON.
    """
    _take_slot()
    params = {"q": query, "format": "jsonv2", "limit": "1"}
    if country:
        params["countrycodes"] = country.lower()
    url = config_str("GEOCODER_URL", "https://nominatim.openstreetmap.org").rstrip("/") + "/search"
    try:
        resp = requests.get(url, params=params, timeout=TIMEOUT,
                            headers={"User-Agent": user_agent(), "Accept": "application/json"})
        resp.raise_for_status()
        hits = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise GeocoderUnavailable("Finding places on the map is not working right now; try again later.") from exc
    if not isinstance(hits, list):
        raise GeocoderUnavailable("Finding places on the map is not working right now; try again later.")
    return hits[0] if hits else None


def nominatim_geocode(query: str, country: str | None = None) -> GeoPoint:
    """The point of ``query`` (within ``country``, ISO alpha-2, when given) from the Nominatim
    server at ``GEOCODER_URL``, cached in Redis.

    Raises:
        PlaceNotFound: the server knows no such place (also cached).
        GeocoderUnavailable: the server cannot be reached, fails, or the rate limit's wait is too long.
    """
    redis = get_redis()
    key = _cache_key(query, country)
    cached = redis.get(key)
    if cached is not None:
        hit = json.loads(cached)
    else:
        hit = _ask(query, country)
        ttl = int(current_app.config.get("GEOCODER_CACHE_SECONDS") or 30 * 24 * 3600)
        redis.set(key, json.dumps(hit), ex=ttl if hit else min(ttl, 24 * 3600))
    if not hit:
        raise PlaceNotFound(f"We could not find “{query}” on the map; try a city name or a postcode.")
    try:
        return _point(hit)
    except (KeyError, TypeError, ValueError) as exc:
        raise GeocoderUnavailable("Finding places on the map gave an answer we cannot read.") from exc
