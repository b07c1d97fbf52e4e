"""Uploaded images, checked by their content (never by file name or declared type) with Pillow,
and re-encoded so that nothing of the original file but its pixels is kept.

One API serves every kind of photo (business logo, cover, gallery, and review and post photos):

* :func:`prepare_photo` checks an upload (bytes, pixels, format sniffed from the content) and
  re-encodes it, scaled to fit ``max_side``, as PNG (when it has transparency) or WebP, with no
  metadata (EXIF, GPS, ICC profiles, comments are dropped);
* :func:`store_photo` keeps it under a content-hashed key ``<prefix>/<tenant hex>/<digest>.<ext>``
  (the prefix named by the photo's ``kind``, see :data:`KIND_PREFIXES`);
* :func:`make_thumbnail` scales an already stored (so already clean) image down for a thumbnail.

:func:`prepare_logo` / :func:`store_logo` are the logo's shorthands.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import InputError
from app.storage import Storage

#: Formats accepted, as Pillow names them (sniffed from the bytes).
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
#: Largest accepted image, in pixels (width × height), before decoding: stops decompression bombs.
MAX_PIXELS = 25_000_000
#: Longest side of a stored logo, in pixels (larger images are scaled down).
LOGO_MAX_SIDE = 512
#: Longest side of a stored cover, gallery, review or post photo, in pixels.
PHOTO_MAX_SIDE = 2048
#: Longest side of a thumbnail, in pixels.
THUMBNAIL_MAX_SIDE = 480
#: Storage key prefix of each photo kind. Every prefix here is public (served at ``/media/``).
KIND_PREFIXES = {
    "logo": "logos",
    "cover": "covers",
    "gallery": "gallery",
    "thumbnail": "thumbs",
    "review": "reviews",
    "post": "posts",
}


class ImageRejected(InputError, ValueError):
    """An upload that is not an acceptable image; ``message`` is user-facing."""


@dataclass(frozen=True)
class PreparedImage:
    """A re-encoded image: its ``data``, ``content_type`` (``image/png`` or ``image/webp``),
    file ``extension`` (``png`` / ``webp``), ``width`` and ``height`` in pixels and the first 16
    hex digits of its SHA-256 (``digest``)."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    digest: str


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """The upload's pixels, upright (EXIF orientation applied), fully loaded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise ImageRejected("Upload a PNG, JPEG, WebP or GIF image.")
                if probe.width * probe.height > max_pixels:
                    raise ImageRejected(
                        f"The image has too many pixels; use one under {max_pixels // 1_000_000 or 1} megapixels.")
                probe.verify()
            with Image.open(io.BytesIO(data)) as source:
                source.seek(0)
                image = ImageOps.exif_transpose(source)
                image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("This file is not an image we can read; upload a PNG, JPEG, WebP or GIF.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageRejected):
            raise
        raise ImageRejected("This image is damaged or incomplete; try another file.") from exc
    return image


def _encode(image: Image.Image, max_side: int) -> PreparedImage:
    """``image`` scaled to fit ``max_side`` and re-encoded from its pixels alone."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    clean = Image.new(image.mode, image.size)  # pixels only: no info, EXIF, ICC or text chunks
    clean.paste(image)
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        clean.save(out, format="WEBP", quality=88, method=4)
        content_type, extension = "image/webp", "webp"
    encoded = out.getvalue()
    return PreparedImage(encoded, content_type, extension, clean.width, clean.height,
                         hashlib.sha256(encoded).hexdigest()[:16])


def prepare_photo(data: bytes, *, max_bytes: int, max_side: int = PHOTO_MAX_SIDE,
                  max_pixels: int = MAX_PIXELS) -> PreparedImage:
    """Check ``data`` (an upload of at most ``max_bytes`` bytes and ``max_pixels`` pixels) and
    re-encode it to fit a ``max_side`` × ``max_side`` pixel box, metadata stripped.

    Raises:
        ImageRejected: empty, too large (bytes or pixels), not a PNG/JPEG/WebP/GIF image by its
            content, or broken.
    """
    if not data:
        raise ImageRejected("Choose an image file.")
    if len(data) > max_bytes:
        raise ImageRejected(f"The file is too large: at most {max_bytes // 1_000_000 or 1} MB.")
    return _encode(_decode(data, max_pixels), max_side)


def make_thumbnail(data: bytes, *, max_side: int = THUMBNAIL_MAX_SIDE) -> PreparedImage:
    """A thumbnail (fitting ``max_side`` pixels) of a stored image's bytes ``data``.

    Raises:
        ImageRejected: ``data`` is not a readable image.
    """
    return _encode(_decode(data, MAX_PIXELS), max_side)


def store_photo(storage: Storage, tenant_id: uuid.UUID, image: PreparedImage, kind: str) -> str:
    """Store ``image`` as a photo of ``kind`` (a key of :data:`KIND_PREFIXES`: logo, cover,
    gallery, thumbnail, review, post) of business ``tenant_id``; returns its key,
    ``<prefix>/<tenant id hex>/<digest>.<ext>`` (a new key for new content, so URLs never go stale).

    Raises:
        ValueError: unknown ``kind``.
        StorageError: the storage refused it.
    """
    prefix = KIND_PREFIXES.get(kind)
    if prefix is None:
        raise ValueError(f"unknown photo kind {kind!r}")
    key = f"{prefix}/{tenant_id.hex}/{image.digest}.{image.extension}"
    storage.put(key, image.data, image.content_type)
    return key


def prepare_logo(data: bytes, *, max_bytes: int) -> PreparedImage:
    """Check ``data`` (an upload of at most ``max_bytes`` bytes) and re-encode it as a logo
    (at most :data:`LOGO_MAX_SIDE` pixels a side).

    Raises:
        ImageRejected: as :func:`prepare_photo`.
    """
    return prepare_photo(data, max_bytes=max_bytes, max_side=LOGO_MAX_SIDE)


def store_logo(storage: Storage, tenant_id: uuid.UUID, image: PreparedImage) -> str:
    """Store ``image`` as the logo of business ``tenant_id``; returns its key
    ``logos/<tenant id hex>/<digest>.<ext>``.

    Raises:
        StorageError: the storage refused it.
    """
    return store_photo(storage, tenant_id, image, "logo")
