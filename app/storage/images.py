"""Uploaded images, checked by their content (never by file name or declared type) with Pillow,
and re-encoded so that nothing of the original file but its pixels is kept.

:func:`prepare_logo` turns an upload into a small PNG (when the image has transparency) or
WebP with no metadata (EXIF, GPS, ICC profiles, comments are dropped); :func:`store_logo`
keeps it under a content-hashed key.
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


def prepare_logo(data: bytes, *, max_bytes: int) -> PreparedImage:
    """Check ``data`` (an upload of at most ``max_bytes`` bytes) and re-encode it as a logo.

    Raises:
        ImageRejected: empty, too large (bytes or pixels), not a PNG/JPEG/WebP/GIF image by its
            content, or broken.
    """
    if not data:
        raise ImageRejected("Choose an image file.")
    if len(data) > max_bytes:
        raise ImageRejected(f"The file is too large: at most {max_bytes // 1_000_000 or 1} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise ImageRejected("Upload a PNG, JPEG, WebP or GIF image.")
                if probe.width * probe.height > MAX_PIXELS:
                    raise ImageRejected("The image has too many pixels; use one under 25 megapixels.")
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
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.Resampling.LANCZOS)
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


def store_logo(storage: Storage, tenant_id: uuid.UUID, image: PreparedImage) -> str:
    """Store ``image`` as the logo of business ``tenant_id``; returns its key,
    ``logos/<tenant id hex>/<digest>.<ext>`` (a new key for new content, so URLs never go stale).

    Raises:
        StorageError: the storage refused it.
    """
    key = f"logos/{tenant_id.hex}/{image.digest}.{image.extension}"
    storage.put(key, image.data, image.content_type)
    return key
