"""Files Plaza keeps (logos, covers, gallery, review and post photos): one small interface,
chosen by configuration.

:class:`Storage` is the interface: ``put`` bytes under a key, ``get`` them back, ``delete``.
Keys are relative paths of lowercase letters, digits, ``-``, ``_``, ``.`` and ``/`` (no ``..``),
content-hashed by their callers, so a stored file never changes and can be cached for a year.
:class:`app.storage.local.LocalStorage` keeps them under ``MEDIA_ROOT`` (``var/media``);
:class:`app.storage.s3.S3Storage` in any S3-compatible store (``STORAGE_URL=s3://bucket/prefix``);
:func:`app.storage.local.default_storage` picks the configured one. Photos go through
:mod:`app.storage.images`; :func:`app.storage.urls.url_for_key` gives a file's URL (public files at
``/media/<key>``, :func:`media_path`, or on ``MEDIA_PUBLIC_URL``; private ones signed and expiring).
"""

from __future__ import annotations

import re
from typing import Protocol

#: A storage key: path segments of safe characters, no leading slash, no ``..``.
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_.-]*)*$")


class StorageError(Exception):
    """A storage operation failed (bad key, file missing, backend unavailable)."""


class FileMissing(StorageError):
    """No file is stored under the key."""


class Storage(Protocol):
    """Where files live. Implementations must be safe to share between threads."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing any file there).

        Raises:
            StorageError: bad key or backend failure.
        """
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``.

        Raises:
            FileMissing: nothing is stored there.
            StorageError: bad key or backend failure.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the file under ``key`` (nothing happens when there is none).

        Raises:
            StorageError: bad key or backend failure.
        """
        ...


def check_key(key: str) -> str:
    """``key`` when it is a valid storage key.

    Raises:
        StorageError: empty, absolute, with ``..`` or characters outside :data:`KEY_RE`.
    """
    if not key or ".." in key or not KEY_RE.match(key):
        raise StorageError(f"invalid storage key {key!r}")
    return key


def media_path(key: str) -> str:
    """The path (on any Plaza host) where the public file ``key`` is served: ``/media/<key>``."""
    return "/media/" + check_key(key)
