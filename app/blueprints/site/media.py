"""Stored files from :mod:`app.storage` on any Plaza host.

* ``/media/<key>``: public files (logos, covers, gallery, review and post photos). Keys are
  content-hashed (new content gets a new key), so answers are cached for a year as
  ``immutable``. Only public prefixes are served; anything else, or a missing file, is 404.
* ``/media/private/<key>?expires=…&sig=…``: a private file through the signed, expiring URL of
  :func:`app.storage.urls.url_for_key` (local storage; S3 hands out presigned URLs instead).
  A wrong or expired signature is 404, and the answer is ``private, no-store``.
"""

from __future__ import annotations

from flask import abort, current_app, request
from werkzeug.wrappers import Response

from app.blueprints.site import bp
from app.storage import FileMissing, StorageError, check_key
from app.storage.images import KIND_PREFIXES
from app.storage.local import default_storage
from app.storage.urls import check_private_signature, url_for_key

#: Key prefixes anyone may fetch (every photo kind).
PUBLIC_PREFIXES = tuple(prefix + "/" for prefix in KIND_PREFIXES.values())
#: Content type of each stored extension (stored files are re-encoded, so the extension is true).
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp"}
#: Content types of private files (any extension not listed is sent as bytes to download).
PRIVATE_TYPES = {**CONTENT_TYPES, "pdf": "application/pdf", "csv": "text/csv", "json": "application/json",
                 "zip": "application/zip"}
#: One year, in seconds.
CACHE_SECONDS = 365 * 24 * 3600


@bp.app_template_global("media_url")
def media_url(key: str | None) -> str:
    """The URL of stored public file ``key`` (``/media/logos/…/ab12….webp``, or on
    ``MEDIA_PUBLIC_URL``), or empty for none."""
    return url_for_key(key) if key else ""


def _read(key: str) -> bytes:
    try:
        return default_storage().get(key)
    except FileMissing:
        abort(404)
    except StorageError as exc:
        current_app.logger.warning("media read failed", extra={"key": key, "error": str(exc)})
        abort(404)


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
    resp = current_app.response_class(_read(key), mimetype=CONTENT_TYPES[extension])
    resp.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/media/private/<path:key>")
def media_private(key: str) -> Response:
    """A stored private file through its signed URL; 404 when the signature is wrong or expired."""
    try:
        check_key(key)
    except StorageError:
        abort(404)
    if not check_private_signature(key, request.args.get("expires", ""), request.args.get("sig", "")):
        abort(404)
    extension = key.rsplit(".", 1)[-1]
    mimetype = PRIVATE_TYPES.get(extension, "application/octet-stream")
    resp = current_app.response_class(_read(key), mimetype=mimetype)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype not in CONTENT_TYPES.values():
        resp.headers["Content-Disposition"] = "attachment"
    return resp
