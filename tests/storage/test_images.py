"""The one photo API (:mod:`app.storage.images`): uploads checked by content, size and pixels,
re-encoded with nothing but their pixels (EXIF and GPS gone), stored under content-hashed keys."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from app.storage.images import (
    ImageRejected,
    make_thumbnail,
    prepare_logo,
    prepare_photo,
    store_logo,
    store_photo,
)
from app.storage.local import LocalStorage

pytestmark = pytest.mark.unit

TENANT = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _jpeg_with_gps(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 90))
    exif = image.getexif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 30.0), 3: "E", 4: (12.0, 34.0, 56.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_re_encoded_without_exif_or_gps_and_scaled_to_fit():
    upload = _jpeg_with_gps()
    with Image.open(io.BytesIO(upload)) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload does carry a position
    image = prepare_photo(upload, max_bytes=5_000_000, max_side=1024)
    assert (image.content_type, image.extension) == ("image/webp", "webp")
    assert (image.width, image.height) == (1024, 683)
    assert b"SpyCam" not in image.data and b"Exif" not in image.data
    with Image.open(io.BytesIO(image.data)) as stored:
        assert stored.format == "WEBP"
        assert dict(stored.getexif()) == {}
        assert stored.getexif().get_ifd(0x8825) == {}
        assert stored.size == (1024, 683)


def test_transparency_is_kept_as_png():
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(out, format="PNG")
    image = prepare_photo(out.getvalue(), max_bytes=1_000_000, max_side=2048)
    assert (image.content_type, image.width, image.height) == ("image/png", 40, 30)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Choose an image file."),
    (b"%PDF-1.4 not an image", "not an image we can read"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image we can read"),
])
def test_what_is_not_an_image_is_refused_whatever_its_name(data, message):
    with pytest.raises(ImageRejected) as refused:
        prepare_photo(data, max_bytes=1_000_000, max_side=100)
    assert message in refused.value.message


def test_limits_on_bytes_and_pixels():
    upload = _jpeg_with_gps((600, 600))
    with pytest.raises(ImageRejected, match="too large"):
        prepare_photo(upload, max_bytes=len(upload) - 1, max_side=100)
    with pytest.raises(ImageRejected, match="too many pixels"):
        prepare_photo(upload, max_bytes=len(upload), max_side=100, max_pixels=600 * 599)
    assert prepare_photo(upload, max_bytes=len(upload), max_side=100, max_pixels=600 * 600).width == 100


def test_store_photo_keys_by_kind_tenant_and_content(tmp_path):
    storage = LocalStorage(tmp_path)
    image = prepare_photo(_jpeg_with_gps((800, 600)), max_bytes=5_000_000, max_side=400)
    key = store_photo(storage, TENANT, image, "gallery")
    assert key == f"gallery/{TENANT.hex}/{image.digest}.webp"
    assert storage.get(key) == image.data
    assert store_photo(storage, TENANT, image, "review").startswith("reviews/")
    assert store_photo(storage, TENANT, image, "post").startswith("posts/")
    assert store_photo(storage, TENANT, image, "cover").startswith("covers/")
    with pytest.raises(ValueError, match="unknown photo kind"):
        store_photo(storage, TENANT, image, "secret")


def test_thumbnail_of_a_stored_photo_and_logo_shorthands(tmp_path):
    storage = LocalStorage(tmp_path)
    photo = prepare_photo(_jpeg_with_gps((2000, 1000)), max_bytes=5_000_000)
    assert (photo.width, photo.height) == (2000, 1000)
    thumb = make_thumbnail(photo.data, max_side=300)
    assert (thumb.width, thumb.height) == (300, 150)
    assert store_photo(storage, TENANT, thumb, "thumbnail").startswith(f"thumbs/{TENANT.hex}/")
    logo = prepare_logo(_jpeg_with_gps((1000, 1000)), max_bytes=5_000_000)
    assert (logo.width, logo.height) == (512, 512)
    assert store_logo(storage, TENANT, logo) == f"logos/{TENANT.hex}/{logo.digest}.webp"
