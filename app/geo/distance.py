"""Great-circle distances between points."""

from __future__ import annotations

import math
from typing import Protocol

#: Mean radius of the Earth, km (IUGG).
EARTH_RADIUS_KM = 6371.0088


class HasLatLon(Protocol):
    """Anything with ``lat`` and ``lon`` in degrees (a :class:`app.geo.types.GeoPoint`)."""

    lat: float
    lon: float


def distance_km(a: HasLatLon | tuple[float, float], b: HasLatLon | tuple[float, float]) -> float:
    """The haversine distance in km between ``a`` and ``b`` (points, or ``(lat, lon)`` pairs in
    degrees), on a sphere of radius :data:`EARTH_RADIUS_KM` (within 0.5 % of the ellipsoid)."""
    lat1, lon1 = a if isinstance(a, tuple) else (a.lat, a.lon)
    lat2, lon2 = b if isinstance(b, tuple) else (b.lat, b.lon)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
