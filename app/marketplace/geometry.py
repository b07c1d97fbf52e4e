"""Points on the Earth as 3-D ``cube`` values (PostgreSQL's cube extension), for radius search
through a GiST index: the representation earthdistance uses, without needing that extension
(it takes a superuser to install; cube is trusted).

A point is ``(x, y, z)`` in km on a sphere of :data:`EARTH_RADIUS_KM`; the straight-line (chord)
distance between two points converts exactly to the great-circle distance.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType

from app.geo.distance import EARTH_RADIUS_KM


class Cube(UserDefinedType):
    """The ``cube`` column type (values pass through as PostgreSQL's text form)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        """The SQL type name."""
        return "cube"


def xyz(lat: float, lon: float) -> tuple[float, float, float]:
    """The point at ``lat``/``lon`` (degrees, WGS 84 taken as a sphere) as km from the centre."""
    la, lo = math.radians(lat), math.radians(lon)
    return (EARTH_RADIUS_KM * math.cos(la) * math.cos(lo), EARTH_RADIUS_KM * math.cos(la) * math.sin(lo),
            EARTH_RADIUS_KM * math.sin(la))


def cube_of(lat: float | None, lon: float | None) -> sa.ColumnElement:
    """SQL for the ``cube`` of a point, or NULL without one."""
    if lat is None or lon is None:
        return sa.null()
    return sa.func.cube(sa.cast(sa.literal(list(xyz(lat, lon))), sa.ARRAY(sa.Float)))


def chord_km(distance_km: float) -> float:
    """The straight-line length of a great-circle arc of ``distance_km``."""
    return 2 * EARTH_RADIUS_KM * math.sin(min(distance_km, math.pi * EARTH_RADIUS_KM) / (2 * EARTH_RADIUS_KM))


def within(column: sa.ColumnElement, lat: float, lon: float, radius_km: float) -> sa.ColumnElement:
    """SQL: ``column`` (a cube point) lies within ``radius_km`` of ``lat``/``lon``: a box test the
    GiST index answers, then the exact distance."""
    here = cube_of(lat, lon)
    chord = chord_km(radius_km)
    return sa.and_(sa.func.cube_enlarge(here, chord, 3).op("@>")(column),
                   sa.func.cube_distance(column, here) <= chord)


def distance_km(column: sa.ColumnElement, lat: float, lon: float) -> sa.ColumnElement:
    """SQL: the great-circle distance in km from ``lat``/``lon`` to ``column`` (a cube point)."""
    chord = sa.func.cube_distance(column, cube_of(lat, lon))
    return 2 * EARTH_RADIUS_KM * sa.func.asin(sa.func.least(1.0, chord / (2 * EARTH_RADIUS_KM)))
