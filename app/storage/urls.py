"""Where a stored file can be fetched: :func:`url_for_key`.

* A public key (logos, covers, gallery, review and post photos): ``MEDIA_PUBLIC_URL/<key>``
  when a public bucket URL or CDN is configured, else ``/media/<key>`` on any Plaza host (served
  by the app from whichever storage is configured).
* A private key: a URL that works for ``PRIVATE_URL_SECONDS`` only: S3's presigned GET with
  the S3 storage; with the local storage ``/media/private/<key>?expires=<unix>&sig=<hmac>``,
  an HMAC-SHA256 over the key and expiry with ``SECRET_KEY``, checked by the app
  (:func:`check_private_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

from flask import current_app

from app.config import config_str
from app.storage import check_key, media_path
from app.storage.local import default_storage
from app.storage.s3 import S3Storage

#: Path prefix of locally served private files.
PRIVATE_PATH = "/media/private/"


def _signature(key: str, expires: int) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"media-private|{key}|{expires}".encode(), hashlib.sha256).hexdigest()


def url_for_key(key: str, private: bool = False, *, now: float | None = None) -> str:
    """The URL of stored file ``key``: a public one (``private=False``), or a signed one that
    expires after ``PRIVATE_URL_SECONDS`` (``now``: the current Unix time, for tests). Needs an
    app context.

    Raises:
        StorageError: invalid key, or the store cannot sign the URL.
    """
    check_key(key)
    if not private:
        base = config_str("MEDIA_PUBLIC_URL", "").rstrip("/")
        return f"{base}/{quote(key)}" if base else media_path(key)
    seconds = int(current_app.config.get("PRIVATE_URL_SECONDS") or 900)
    storage = default_storage()
    if isinstance(storage, S3Storage):
        return storage.presigned_url(key, seconds)
    expires = int(now if now is not None else time.time()) + seconds
    return f"{PRIVATE_PATH}{quote(key)}?" + urlencode({"expires": expires, "sig": _signature(key, expires)})


def check_private_signature(key: str, expires: str, sig: str, *, now: float | None = None) -> bool:
    """True when ``sig`` is :func:`url_for_key`'s signature of ``key`` and ``expires`` (Unix
    seconds, as text) has not passed. Needs an app context."""
    try:
        when = int(expires)
    except (TypeError, ValueError):
        return False
    if when < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_signature(key, when), sig or "")


def media_origin(config: Mapping[str, object]) -> str:
    """Origins a page's ``img-src`` must allow for stored files under ``config``: the public
    media URL's and, with an S3 store, its endpoint's (presigned URLs); empty when files are
    served by Plaza itself."""
    origins = []
    for url in (config.get("MEDIA_PUBLIC_URL"), config.get("S3_ENDPOINT_URL") if config.get("STORAGE_URL") else ""):
        parts = urlsplit(str(url or ""))
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    if config.get("STORAGE_URL") and not config.get("S3_ENDPOINT_URL"):
        origins.append("https://*.amazonaws.com")  # AWS's own S3: presigned URLs on the bucket's host
    return " ".join(dict.fromkeys(origins))
