"""Jobs on stored files: gallery thumbnails.

Enqueued by dotted path (:data:`TASKS`) after the upload's unit of work commits; each job is
one unit of work in the photo's business (:func:`app.jobs.runner.run_in_tenant`) and is
idempotent (a photo that already has its thumbnail, or is gone, is left alone).
"""

from __future__ import annotations

import uuid

from app.jobs.runner import enqueue, run_in_tenant
from app.storage.images import make_thumbnail, store_photo
from app.storage.local import default_storage
from app.tenants.context import require_tenant_id
from app.tenants.photos import get_photo, set_thumbnail

TASKS = "app.storage.tasks"


def enqueue_gallery_thumbnail(tenant_id: uuid.UUID, photo_id: uuid.UUID) -> str:
    """Queue :func:`make_gallery_thumbnail` for the photo; returns the job id. Call after the
    upload committed; needs an app context."""
    return enqueue(f"{TASKS}.make_gallery_thumbnail", str(tenant_id), str(photo_id)).id


def make_gallery_thumbnail(tenant_id: str, photo_id: str) -> str:
    """Job: make and store the thumbnail of gallery photo ``photo_id`` of business ``tenant_id``.

    Returns ``made``, ``already`` (it had one) or ``gone`` (the photo was removed).

    Raises:
        StorageError: the store failed (RQ retries the job).
    """

    def work() -> str:
        photo = get_photo(uuid.UUID(photo_id))
        if photo is None:
            return "gone"
        if photo.thumbnail_key:
            return "already"
        storage = default_storage()
        thumb = make_thumbnail(storage.get(photo.key))
        set_thumbnail(photo, store_photo(storage, require_tenant_id(), thumb, "thumbnail"))
        return "made"

    return run_in_tenant(tenant_id, work)
