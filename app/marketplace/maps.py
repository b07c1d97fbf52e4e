"""Map tiles of the search map: where they come from (``MAP_TILE_URL``), for the page and for the
Content-Security-Policy's ``img-src``."""

from __future__ import annotations

from urllib.parse import urlsplit


def map_tile_sources(tile_url: str) -> list[str]:
    """The CSP sources that allow the tiles of ``tile_url`` (a Leaflet URL template such as
    ``https://{s}.tile.example/{z}/{x}/{y}.png``): its origin, a ``{s}`` subdomain as a wildcard;
    ``[]`` for an empty or relative URL (tiles served by Plaza itself, or none)."""
    parts = urlsplit(tile_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []
    host = parts.netloc.replace("{s}.", "*.").replace("{s}", "*")
    return [f"{parts.scheme}://{host}"]
