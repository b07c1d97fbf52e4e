"""The local filesystem implementation of :class:`app.storage.Storage` (``MEDIA_ROOT``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app, has_app_context

from app.config import config_str
from app.storage import FileMissing, Storage, StorageError, check_key
from app.storage.s3 import S3Storage


class LocalStorage:
    """Files under ``root``, one file per key. Writes go to a temporary file first and are
    renamed into place, so a reader never sees half a file."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise StorageError(f"storage key {key!r} leaves the storage folder")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (``content_type`` is implied by the key's extension here).

        Raises:
            StorageError: bad key or the folder cannot be written.
        """
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc

    def get(self, key: str) -> bytes:
        """The bytes under ``key``.

        Raises:
            FileMissing: no such file.
            StorageError: bad key or unreadable file.
        """
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        """Remove ``key``'s file if present.

        Raises:
            StorageError: bad key or the file cannot be removed.
        """
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r}: {exc}") from exc


def default_storage() -> Storage:
    """The configured storage: :class:`app.storage.s3.S3Storage` when ``STORAGE_URL`` is an
    ``s3://`` URL (one client per app and settings), else :class:`LocalStorage` under
    ``MEDIA_ROOT`` (relative paths are taken from the app's root folder's parent, i.e. the
    repository, inside an app context).

    Raises:
        StorageError: ``STORAGE_URL`` is set but is not an ``s3://bucket/prefix`` URL.
    """
    url = config_str("STORAGE_URL", "")
    if url:
        settings = (url, config_str("S3_ENDPOINT_URL", ""), config_str("S3_REGION", "us-east-1"),
                    config_str("S3_ACCESS_KEY_ID", ""), config_str("S3_SECRET_ACCESS_KEY", ""))
        cache = current_app.extensions.setdefault("plaza_s3_storage", {}) if has_app_context() else {}
        if settings not in cache:
            cache[settings] = S3Storage.from_settings(url, endpoint_url=settings[1], region=settings[2],
                                                      access_key_id=settings[3], secret_access_key=settings[4])
        return cache[settings]
    root = Path(config_str("MEDIA_ROOT", "var/media"))
    if not root.is_absolute() and has_app_context():
        root = Path(current_app.root_path).parent / root
    return LocalStorage(root)
