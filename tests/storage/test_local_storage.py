"""The local filesystem storage behind :mod:`app.storage`."""

from __future__ import annotations

import pytest

from app.storage import FileMissing, StorageError, media_path
from app.storage.local import LocalStorage

pytestmark = pytest.mark.unit


def test_put_get_delete_round_trip(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("logos/abc/0123.webp", b"pixels", "image/webp")
    assert (tmp_path / "logos/abc/0123.webp").read_bytes() == b"pixels"
    assert storage.get("logos/abc/0123.webp") == b"pixels"
    storage.put("logos/abc/0123.webp", b"new", "image/webp")
    assert storage.get("logos/abc/0123.webp") == b"new"
    assert [p.name for p in (tmp_path / "logos/abc").iterdir()] == ["0123.webp"]  # no temporary file left
    storage.delete("logos/abc/0123.webp")
    storage.delete("logos/abc/0123.webp")  # twice is fine
    with pytest.raises(FileMissing):
        storage.get("logos/abc/0123.webp")


@pytest.mark.parametrize("key", ["../outside.txt", "/etc/passwd", "logos/../../x", "Logos/A.png", "", "a//b",
                                 "logos/.hidden"])
def test_keys_cannot_leave_the_folder_or_use_odd_characters(tmp_path, key):
    storage = LocalStorage(tmp_path / "media")
    with pytest.raises(StorageError):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(StorageError):
        storage.get(key)
    assert not (tmp_path / "outside.txt").exists()


def test_media_path_of_a_key():
    assert media_path("logos/ab/cd.png") == "/media/logos/ab/cd.png"
    with pytest.raises(StorageError):
        media_path("../x")
