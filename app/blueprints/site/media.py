"""Public files from :mod:`app.storage` (business logos) at ``/media/<key>`` on any Plaza host.

Keys are content-hashed (a new logo gets a new key), so answers are cached for a year as
``immutable``. Only public prefixes are served; anything else, or a missing file, is 404.
"""

from __future__ import annotations

from flask import abort, current_app
from werkzeug.wrappers import Response

from app.blueprints.site import bp
from app.storage import FileMissing, StorageError, check_key, media_path
from app.storage.images import KIND_PREFIXES
from app.storage.local import default_storage

#: Key prefixes anyone may fetch (every photo kind).
PUBLIC_PREFIXES = tuple(prefix + "/" for prefix in KIND_PREFIXES.values())
#: Content type of each stored extension (stored files are re-encoded, so the extension is true).
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp"}
#: One year, in seconds.
CACHE_SECONDS = 365 * 24 * 3600


@bp.app_template_global("media_url")
def media_url(key: str | None) -> str:
    """The path of stored public file ``key`` (``/media/logos/…/ab12….webp``), or empty for none."""
    return media_path(key) if key else ""


@bp.get("/media/<path:key>")
def media(key: str) -> Response:
    """A stored public file, with long cache headers; 404 for other keys or missing files."""
    try:
        check_key(key)
    except StorageError:
        abort(404)
    extension = key.rsplit(".", 1)[-1]
    if not key.startswith(PUBLIC_PREFIXES) or extension not in CONTENT_TYPES:
        abort(404)
    try:
        data = default_storage().get(key)
    except FileMissing:
        abort(404)
    resp = current_app.response_class(data, mimetype=CONTENT_TYPES[extension])
    resp.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
