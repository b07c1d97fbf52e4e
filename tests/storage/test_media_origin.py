"""Origins of stored files a page's Content-Security-Policy must allow."""

from __future__ import annotations

import pytest

from app.storage.urls import media_origin

pytestmark = pytest.mark.unit


def test_media_origins():
    assert media_origin({}) == ""
    assert media_origin({"MEDIA_PUBLIC_URL": "https://cdn.example.com/media"}) == "https://cdn.example.com"
    assert media_origin({"STORAGE_URL": "s3://b/p", "S3_ENDPOINT_URL": "http://127.0.0.1:9000"}) == \
        "http://127.0.0.1:9000"
    assert media_origin({"STORAGE_URL": "s3://b/p"}) == "https://*.amazonaws.com"
