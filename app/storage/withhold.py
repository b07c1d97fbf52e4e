"""Taking a public file out of public reach and giving it back (moderation of review photos).

Public files are served by key (``/media/<key>`` or a public bucket), so hiding the page that
shows them is not enough: a copied link would still load. :func:`withhold` moves the file under
:data:`WITHHELD_PREFIX`, which is never served publicly; :func:`release` moves it back to its own
key. Both are idempotent (a file already moved is left alone), and neither touches the database:
callers run them after the commit that hid or restored the content. Copies already in a CDN or
a browser's cache stay until they expire (a year for immutable media): purge the CDN by hand for
content that must go at once.
"""

from __future__ import annotations

from app.storage import FileMissing, Storage, check_key

#: Where withheld files live (never one of the public prefixes, so ``/media/`` answers 404).
WITHHELD_PREFIX = "withheld/"
#: Content type by stored extension (stored photos are re-encoded, so the extension is true).
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}


def withheld_key(key: str) -> str:
    """The key a withheld copy of public file ``key`` is kept under.

    Raises:
        StorageError: ``key`` is not a valid storage key.
    """
    return WITHHELD_PREFIX + check_key(key)


def _move(storage: Storage, source: str, target: str) -> bool:
    try:
        data = storage.get(source)
    except FileMissing:
        return False
    storage.put(target, data, CONTENT_TYPES.get(source.rsplit(".", 1)[-1], "application/octet-stream"))
    storage.delete(source)
    return True


def withhold(storage: Storage, key: str) -> bool:
    """Move public file ``key`` out of public reach; ``True`` when it moved (``False``: nothing
    was there, e.g. already withheld).

    Raises:
        StorageError: bad key or backend failure.
    """
    return _move(storage, check_key(key), withheld_key(key))


def release(storage: Storage, key: str) -> bool:
    """Put withheld file ``key`` back at its public key; ``True`` when it moved.

    Raises:
        StorageError: bad key or backend failure.
    """
    return _move(storage, withheld_key(key), key)
