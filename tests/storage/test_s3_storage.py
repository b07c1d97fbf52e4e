"""The S3 storage (``STORAGE_URL=s3://bucket/prefix``) against moto's S3 server: the same
put/get/delete as the local storage, long cache headers on objects, presigned URLs for private
files, and the app serving and storing through it."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from PIL import Image

from app.storage import FileMissing, StorageError
from app.storage.images import prepare_photo, store_photo
from app.storage.local import default_storage
from app.storage.s3 import S3Storage, parse_storage_url
from app.storage.urls import url_for_key

pytestmark = pytest.mark.integration

KEYS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's S3 server on a free 127.0.0.1 port, with the bucket ``plaza-media``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="plaza-media")
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def s3_app(app, moto_url):
    """The app storing files in moto's bucket under ``media/``."""
    saved = {k: app.config.get(k) for k in ("STORAGE_URL", "S3_ENDPOINT_URL", *KEYS)}
    app.config.update(STORAGE_URL="s3://plaza-media/media", S3_ENDPOINT_URL=moto_url, **KEYS)
    yield app
    app.config.update(saved)


def _storage(moto_url: str) -> S3Storage:
    return S3Storage.from_settings("s3://plaza-media/tests/", endpoint_url=moto_url, region="us-east-1",
                                   access_key_id="testing", secret_access_key="testing")


def test_put_get_delete_round_trip_with_cache_headers(moto_url):
    storage = _storage(moto_url)
    storage.put("logos/abc/0123.webp", b"pixels", "image/webp")
    assert storage.get("logos/abc/0123.webp") == b"pixels"
    head = storage.client.head_object(Bucket="plaza-media", Key="tests/logos/abc/0123.webp")
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    storage.delete("logos/abc/0123.webp")
    storage.delete("logos/abc/0123.webp")
    with pytest.raises(FileMissing):
        storage.get("logos/abc/0123.webp")
    with pytest.raises(StorageError):
        storage.put("../escape", b"x", "text/plain")


def test_a_presigned_url_fetches_a_private_file(moto_url):
    storage = _storage(moto_url)
    storage.put("exports/report.csv", b"a,b\n1,2\n", "text/csv")
    url = storage.presigned_url("exports/report.csv", 60)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    assert requests.get(url, timeout=10).content == b"a,b\n1,2\n"


def test_storage_urls_are_checked():
    assert parse_storage_url("s3://bucket/a/b/") == ("bucket", "a/b")
    assert parse_storage_url("s3://bucket") == ("bucket", "")
    with pytest.raises(StorageError, match="s3://bucket/prefix"):
        parse_storage_url("https://bucket/x")


def test_the_app_stores_and_serves_photos_through_s3(s3_app, moto_url):
    with s3_app.app_context():
        storage = default_storage()
        assert isinstance(storage, S3Storage) and default_storage() is storage  # one client per settings
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (1, 2, 3)).save(out, "PNG")
        tenant = uuid.uuid4()
        key = store_photo(storage, tenant, prepare_photo(out.getvalue(), max_bytes=100_000, max_side=32), "gallery")
        assert url_for_key(key) == f"/media/{key}"
        private = url_for_key(key, private=True)
        assert private.startswith(f"{moto_url}/plaza-media/media/{key}?") and "X-Amz-Signature" in private
    listed = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing").list_objects_v2(Bucket="plaza-media", Prefix="media/")
    assert [o["Key"] for o in listed["Contents"]] == [f"media/{key}"]
    served = s3_app.test_client().get(f"/media/{key}", base_url="http://localhost")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (32, 24)
    assert s3_app.test_client().get(f"/media/gallery/{tenant.hex}/0000000000000000.webp",
                                    base_url="http://localhost").status_code == 404
