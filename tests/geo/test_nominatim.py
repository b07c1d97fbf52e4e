"""The Nominatim backend against a local server speaking Nominatim's ``/search`` JSON protocol:
the point it answers, its polite rate limit across processes, its Redis cache, its User-Agent,
and clear errors when a place is unknown or the service is down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from app.geo import GeocoderUnavailable, PlaceNotFound, geocode

pytestmark = pytest.mark.integration

PLACES = {
    "nørregade 12, 1165 københavn": {"lat": "55.6809", "lon": "12.5717", "addresstype": "house",
                                      "display_name": "12, Nørregade, Indre By, København, 1165, Danmark"},
    "london": {"lat": "51.5074456", "lon": "-0.1277653", "addresstype": "city",
               "display_name": "London, Greater London, England, United Kingdom"},
}


class FakeNominatim(BaseHTTPRequestHandler):
    """Answers ``GET /search?q=…&format=jsonv2`` as Nominatim does; records each request."""

    requests: list[tuple[float, dict[str, list[str]], str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        type(self).requests.append((time.monotonic(), query, self.headers.get("User-Agent", "")))
        if url.path == "/broken/search":
            self.send_response(503)
            self.end_headers()
            return
        hit = PLACES.get(query.get("q", [""])[0].casefold())
        body = json.dumps([{"place_id": 1, "importance": 0.6, **hit}] if hit else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@contextmanager
def running_nominatim() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def nominatim(ctx):
    FakeNominatim.requests = []
    saved = {k: ctx.config.get(k) for k in ("GEOCODER", "GEOCODER_URL", "GEOCODER_CONTACT")}
    with running_nominatim() as url:
        ctx.config.update(GEOCODER="nominatim", GEOCODER_URL=url, GEOCODER_CONTACT="ops@plaza.example")
        yield url
    ctx.config.update(saved)


def test_an_address_becomes_its_point_with_a_polite_user_agent(nominatim):
    point = geocode("Nørregade 12,  1165 København", "dk")
    assert (point.lat, point.lon, point.precision) == (55.6809, 12.5717, "address")
    assert point.label.startswith("12, Nørregade")
    [(_, query, agent)] = FakeNominatim.requests
    assert query["format"] == ["jsonv2"] and query["countrycodes"] == ["dk"]
    assert query["q"] == ["Nørregade 12, 1165 København"]
    assert agent.startswith("Plaza/") and "ops@plaza.example" in agent


def test_answers_are_cached_so_a_place_is_asked_for_once(nominatim):
    assert geocode("London").precision == "city"
    assert geocode("london").lat == pytest.approx(51.5074456)
    with pytest.raises(PlaceNotFound):
        geocode("Atlantis")
    with pytest.raises(PlaceNotFound):
        geocode("Atlantis")  # "not found" is cached too
    assert [q["q"][0] for _, q, _ in FakeNominatim.requests] == ["London", "Atlantis"]


def test_at_most_one_request_a_second_across_threads(nominatim, app):
    def ask(place: str) -> None:
        with app.app_context():
            app.config.update(GEOCODER="nominatim", GEOCODER_URL=nominatim)
            with pytest.raises(PlaceNotFound):
                geocode(place)

    threads = [threading.Thread(target=ask, args=(f"Nowhere {i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(t for t, _, _ in FakeNominatim.requests)
    assert len(times) == 3
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False))


def test_an_unknown_place_and_a_broken_service_are_clear_errors(nominatim, ctx):
    with pytest.raises(PlaceNotFound) as unknown:
        geocode("Atlantis")
    assert unknown.value.message == "We could not find “Atlantis” on the map; try a city name or a postcode."
    ctx.config["GEOCODER_URL"] = nominatim + "/broken"
    with pytest.raises(GeocoderUnavailable, match="not working right now"):
        geocode("Somewhere")
    ctx.config["GEOCODER_URL"] = "http://127.0.0.1:9"  # nothing listens
    with pytest.raises(GeocoderUnavailable):
        geocode("Elsewhere")


def test_offline_is_the_default_and_needs_no_network(ctx):
    assert ctx.config["GEOCODER"] == "offline"
    assert geocode("10001").label == "10001 New York, NY, US"
    with pytest.raises(PlaceNotFound, match="Enter a place"):
        geocode("   ")
