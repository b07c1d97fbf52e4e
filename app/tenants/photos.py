"""A business's photo gallery (``business_photo``): up to ``GALLERY_MAX_PHOTOS`` (12) photos
with a caption, in the owner's order, each with a thumbnail made by a job
(:func:`app.storage.tasks.make_gallery_thumbnail`).

The tenant in scope only; functions flush and never commit. Files are stored through
:mod:`app.storage` by the caller, which passes their keys and sizes here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Mapped, mapped_column

from app.errors import InputError
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.tenants.guard import TenantScoped
from app.tenants.models import Tenant
from app.timeutil import utcnow

#: Photos a gallery holds at most, unless ``GALLERY_MAX_PHOTOS`` says otherwise.
MAX_PHOTOS = 12
#: Longest caption, characters.
CAPTION_MAX = 200


class BusinessPhoto(TenantScoped, db.Model):
    """A gallery photo: its storage ``key`` and ``thumbnail_key`` (``None`` until the job made
    it), size in pixels (``width`` x ``height``), plain-text ``caption`` (at most 200
    characters, may be empty, used as the image's alt text) and ``position`` (0 first)."""

    __tablename__ = "business_photo"
    __table_args__ = (
        sa.CheckConstraint(f"char_length(caption) <= {CAPTION_MAX}", name="business_photo_caption"),
        sa.CheckConstraint("width > 0 and height > 0", name="business_photo_size"),
        sa.Index("business_photo_order", "tenant_id", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    thumbnail_key: Mapped[str | None] = mapped_column(sa.String(200))
    width: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    height: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    caption: Mapped[str] = mapped_column(sa.String(CAPTION_MAX), nullable=False, default="", server_default="")
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class GalleryError(InputError, ValueError):
    """A gallery change that cannot be made; ``message`` is user-facing."""


def max_photos() -> int:
    """How many photos a gallery may hold (``GALLERY_MAX_PHOTOS``, default 12)."""
    if has_app_context():
        return int(current_app.config.get("GALLERY_MAX_PHOTOS") or MAX_PHOTOS)
    return MAX_PHOTOS


def gallery() -> list[BusinessPhoto]:
    """The business's photos in order."""
    return list(db.session.scalars(sa.select(BusinessPhoto).order_by(BusinessPhoto.position,
                                                                      BusinessPhoto.created_at)))


def get_photo(photo_id: uuid.UUID) -> BusinessPhoto | None:
    """Photo ``photo_id`` of the business in scope, or ``None`` (another business's is ``None``)."""
    return db.session.get(BusinessPhoto, (require_tenant_id(), photo_id))


def _clean_caption(caption: str) -> str:
    caption = " ".join((caption or "").split())
    if len(caption) > CAPTION_MAX:
        raise GalleryError(f"Use at most {CAPTION_MAX} characters.", "caption")
    return caption


def add_photo(key: str, width: int, height: int, caption: str = "") -> BusinessPhoto:
    """Add the stored photo ``key`` (``width`` x ``height`` pixels) at the end of the gallery;
    flushes. Concurrent adds are serialised on the business's row, so the limit holds.

    Raises:
        GalleryError: the gallery is full, or the caption is too long.
    """
    tenant_id = require_tenant_id()
    caption = _clean_caption(caption)
    db.session.execute(sa.select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    count, last = db.session.execute(sa.select(sa.func.count(), sa.func.max(BusinessPhoto.position))).one()
    if count >= max_photos():
        raise GalleryError(f"Your gallery is full ({max_photos()} photos): remove one first.", "photo")
    photo = BusinessPhoto(key=key, width=width, height=height, caption=caption,
                          position=(last + 1) if last is not None else 0)
    db.session.add(photo)
    db.session.flush()
    return photo


def set_caption(photo: BusinessPhoto, caption: str) -> None:
    """Change ``photo``'s caption; flushes.

    Raises:
        GalleryError: too long.
    """
    photo.caption = _clean_caption(caption)
    db.session.flush()


def move_photo(photo: BusinessPhoto, step: int) -> None:
    """Move ``photo`` one place earlier (``step=-1``) or later (``+1``); nothing happens at
    either end. Positions are renumbered 0, 1, 2, … Flushes."""
    photos = gallery()
    index = next(i for i, p in enumerate(photos) if p.id == photo.id)
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(photos):
        photos[index], photos[target] = photos[target], photos[index]
    for position, item in enumerate(photos):
        item.position = position
    db.session.flush()


def remove_photo(photo: BusinessPhoto) -> list[str]:
    """Remove ``photo`` from the gallery; returns the storage keys it used (to delete once the
    removal is committed). Flushes."""
    keys = [k for k in (photo.key, photo.thumbnail_key) if k]
    db.session.delete(photo)
    db.session.flush()
    return keys


def set_thumbnail(photo: BusinessPhoto, key: str) -> None:
    """Record ``photo``'s thumbnail ``key``; flushes."""
    photo.thumbnail_key = key
    db.session.flush()
