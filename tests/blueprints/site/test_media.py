"""Stored files on any Plaza host: public photos at ``/media/<key>`` with a year's immutable
cache, a public URL base (CDN) when configured, and private files only through a signed URL
that expires."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from app.storage.local import LocalStorage
from app.storage.urls import url_for_key

pytestmark = pytest.mark.integration


@pytest.fixture
def media_root(app, tmp_path):
    saved = app.config.get("MEDIA_ROOT"), app.config.get("MEDIA_PUBLIC_URL")
    app.config["MEDIA_ROOT"] = str(tmp_path)
    storage = LocalStorage(tmp_path)
    storage.put("posts/ab/0123456789abcdef.webp", b"RIFF....WEBP", "image/webp")
    storage.put("exports/ab/report.csv", b"a,b\n", "text/csv")
    yield storage
    app.config["MEDIA_ROOT"], app.config["MEDIA_PUBLIC_URL"] = saved


def test_public_photos_are_served_with_a_long_immutable_cache(app, client, media_root):
    resp = client.get("/media/posts/ab/0123456789abcdef.webp", base_url="http://localhost")
    assert resp.status_code == 200 and resp.data == b"RIFF....WEBP"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # Not a public prefix (a private file) or missing: 404.
    assert client.get("/media/exports/ab/report.csv").status_code == 404
    assert client.get("/media/posts/ab/ffffffffffffffff.webp").status_code == 404


def test_a_public_url_base_serves_photos_from_a_cdn(app, media_root):
    with app.app_context():
        assert url_for_key("posts/ab/0123456789abcdef.webp") == "/media/posts/ab/0123456789abcdef.webp"
        app.config["MEDIA_PUBLIC_URL"] = "https://cdn.plaza.example/media/"
        assert url_for_key("posts/ab/0123456789abcdef.webp") == \
            "https://cdn.plaza.example/media/posts/ab/0123456789abcdef.webp"


def test_private_files_need_a_valid_unexpired_signature(app, client, media_root):
    with app.app_context():
        url = url_for_key("exports/ab/report.csv", private=True)
        stale = url_for_key("exports/ab/report.csv", private=True, now=time.time() - 3600)
    assert url.startswith("/media/private/exports/ab/report.csv?expires=")
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data == b"a,b\n"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["Content-Disposition"] == "attachment"
    query = parse_qs(urlsplit(url).query)
    expires, sig = query["expires"][0], query["sig"][0]
    assert client.get(stale).status_code == 404  # expired
    assert client.get(f"/media/private/exports/ab/report.csv?expires={int(expires) + 60}&sig={sig}").status_code == 404
    assert client.get(f"/media/private/exports/ab/other.csv?expires={expires}&sig={sig}").status_code == 404
    assert client.get("/media/private/exports/ab/report.csv").status_code == 404
