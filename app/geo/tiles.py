"""Map tiles: the origin a Content-Security-Policy must allow for ``MAP_TILE_URL``'s images."""

from __future__ import annotations

from urllib.parse import urlsplit


def tile_origin(template: str) -> str:
    """The origin of tile URL ``template`` for ``img-src`` (``https://{s}.tile.example.org/{z}/…``
    -> ``https://*.tile.example.org``), or empty for an empty or relative template."""
    if not template:
        return ""
    parts = urlsplit(template.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.replace('tiles-subdomain', '*')}"
