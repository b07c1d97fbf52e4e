"""Set-up: the business's photo gallery on the settings page (``/dashboard/business#business-gallery``).

The owner adds photos (checked by their content, re-encoded without metadata, at most
``GALLERY_MAX_PHOTOS``), captions, reorders and removes them; a job makes each thumbnail
after the upload commits. Managers see the gallery read-only. A refused upload re-renders the
page with 422 and the error beside the field; nothing is written.
"""

from __future__ import annotations

import uuid

from flask import abort, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.business_forms import PhotoForm
from app.blueprints.dashboard.views.business import render_business, settings_form, upload_photo
from app.blueprints.dashboard.views.common import current_tenant, done
from app.extensions import db
from app.outbox.events import emit
from app.storage import StorageError
from app.storage.images import ImageRejected, store_photo
from app.storage.local import default_storage
from app.storage.tasks import enqueue_gallery_thumbnail
from app.tenants.marketplace_profile import touch_profile
from app.tenants.photos import (
    GalleryError,
    add_photo,
    gallery,
    get_photo,
    max_photos,
    move_photo,
    remove_photo,
    set_caption,
)
from app.web.access import owner_required
from app.web.effects import after_commit

GALLERY_URL_FRAGMENT = "#business-gallery"


def _refuse(photo_form: PhotoForm, field: str, message: str) -> Response:
    getattr(photo_form, field).errors = [*getattr(photo_form, field).errors, message]
    return render_business(settings_form(current_tenant(), formdata=False), status=422, photo_form=photo_form,
                           block="gallery")


def _delete_files(keys: list[str]) -> None:
    storage = default_storage()
    for key in keys:
        try:
            storage.delete(key)
        except StorageError:
            continue  # an orphan file is harmless; its key is never served again


@bp.post("/dashboard/business/photos")
@owner_required
def photo_add() -> Response:
    """Add an uploaded photo to the gallery (owner only); its thumbnail is made by a job."""
    tenant = current_tenant()
    photo_form = PhotoForm()
    if not photo_form.validate():
        return render_business(settings_form(tenant, formdata=False), status=422, photo_form=photo_form,
                               block="gallery")
    if len(gallery()) >= max_photos():
        return _refuse(photo_form, "photo", _("Your gallery is full (%(count)d photos): remove one first.", count=max_photos()))
    try:
        image = upload_photo(photo_form.photo.name)
    except ImageRejected as exc:
        return _refuse(photo_form, "photo", exc.message)
    if image is None:
        return _refuse(photo_form, "photo", _("Choose an image file."))
    try:
        with db.session.begin_nested():
            photo = add_photo(store_photo(default_storage(), tenant.id, image, "gallery"), image.width, image.height,
                              photo_form.caption.data or "")
    except GalleryError as exc:
        return _refuse(photo_form, "photo" if exc.field == "photo" else "caption", exc.message)
    after_commit(enqueue_gallery_thumbnail, tenant.id, photo.id)
    touch_profile(tenant)
    emit("business.profile_updated", {"slug": tenant.slug})
    return done(_("Photo added to your gallery."), url_for("dashboard.business") + GALLERY_URL_FRAGMENT)


@bp.post("/dashboard/business/photos/<uuid:photo_id>")
@owner_required
def photo_change(photo_id: uuid.UUID) -> Response:
    """Change one gallery photo (owner only): ``action`` is ``caption`` (with ``caption``),
    ``up``, ``down`` or ``remove``. Another business's photo is 404."""
    photo = get_photo(photo_id)
    if photo is None:
        abort(404)
    action = request.form.get("action", "")
    if action == "caption":
        try:
            set_caption(photo, request.form.get("caption", ""))
        except GalleryError as exc:
            return _refuse(PhotoForm(formdata=None), "caption", exc.message)
        message = _("Caption saved.")
    elif action in ("up", "down"):
        move_photo(photo, -1 if action == "up" else 1)
        message = _("Gallery order saved.")
    elif action == "remove":
        after_commit(_delete_files, remove_photo(photo))
        message = _("Photo removed.")
    else:
        abort(400)
    touch_profile(current_tenant())
    emit("business.profile_updated", {"slug": current_tenant().slug})
    return done(message, url_for("dashboard.business") + GALLERY_URL_FRAGMENT)
