"""Dashboard pages of the community (owners and managers; plain staff 403, others 404):

- ``/dashboard/posts``: the business's posts (drafts and hidden ones marked), a form to publish
  one (text and up to six photos, checked by content and re-encoded: :mod:`app.storage.images`),
  edit and delete.
- ``/dashboard/reports``: reports about the business's content (open first; ``?status=closed``
  for the handled ones) with what to do: hide, restore, dismiss, block the author; and the
  business's blocks, which can be lifted.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.community import bp
from app.blueprints.community.forms import REASON_LABELS, PostForm
from app.community import blocks, moderation, posts
from app.community.models import ACTIONED, DISMISSED, OPEN
from app.community.moderation import ReportError
from app.community.posts import PostError
from app.extensions import db
from app.storage.images import ImageRejected, prepare_photo, store_photo
from app.storage.local import default_storage
from app.tenants.context import require_tenant_id
from app.web import parse_uuid, render_page
from app.web.access import manager_required


def _posts_page(form: PostForm, *, status: int = 200) -> Response:
    items = posts.list_posts()
    return render_page("community/dashboard_posts.html", block="posts", status=status, form=form, posts=items,
                       counts=posts.comment_counts([p.id for p in items]), max_post=posts.MAX_POST,
                       max_photos=posts.MAX_PHOTOS)


def _photo_keys(form: PostForm) -> list[str]:
    """The uploaded photos, checked, re-encoded and stored; their keys.

    Raises:
        PostError: more than :data:`~app.community.posts.MAX_PHOTOS` files, or one is not an
            acceptable image (the message names it).
    """
    uploads = [f for f in request.files.getlist(form.photos.name) if f and f.filename]
    if len(uploads) > posts.MAX_PHOTOS:
        raise PostError(_("A post can have at most %(count)s photos.", count=posts.MAX_PHOTOS), "photos")
    limit = int(current_app.config.get("MEDIA_MAX_UPLOAD_BYTES") or 5_000_000)
    prepared = []
    for upload in uploads:
        try:
            prepared.append(prepare_photo(upload.stream.read(limit + 1), max_bytes=limit))
        except ImageRejected as exc:
            raise PostError(f"{upload.filename}: {exc.message}", "photos") from exc
    storage = default_storage()
    return [store_photo(storage, require_tenant_id(), image, "post") for image in prepared]


@bp.get("/dashboard/posts")
@manager_required
def dashboard_posts() -> Response:
    """The business's posts and the form for a new one."""
    return _posts_page(PostForm(formdata=None))


@bp.post("/dashboard/posts")
@manager_required
def create_post() -> Response:
    """Publish (or keep as a draft) a new post: 303 to the list, or 422 with errors inline."""
    form = PostForm()
    if not form.validate():
        return _posts_page(form, status=400)
    try:
        with db.session.begin_nested():
            keys = _photo_keys(form)
            posts.create_post(form.body.data, author_user_id=current_user.id, publish=bool(form.publish.data),
                              photo_keys=keys)
    except PostError as exc:
        getattr(form, exc.field or "body").errors = [exc.message]
        return _posts_page(form, status=422)
    return redirect(url_for("community.dashboard_posts"), 303)


@bp.route("/dashboard/posts/<post_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_post(post_id: str) -> Response:
    """Edit a post's text, whether it is published, and its photos (remove some, add more: six at most)."""
    post = posts.get_post(parse_uuid(post_id))
    if post is None:
        abort(404)
    if request.method == "GET":
        form = PostForm(formdata=None, body=post.body, publish=post.status == "published")
        return render_page("community/dashboard_post_edit.html", block="form", form=form, post=post,
                           max_post=posts.MAX_POST)
    form = PostForm()
    if not form.validate():
        return render_page("community/dashboard_post_edit.html", block="form", status=400, form=form, post=post,
                           max_post=posts.MAX_POST)
    removed = set(request.form.getlist("remove_photo"))
    try:
        with db.session.begin_nested():
            kept = [k for k in post.photo_keys if k not in removed]
            if len(kept) + len([f for f in request.files.getlist(form.photos.name) if f and f.filename]) > \
                    posts.MAX_PHOTOS:
                raise PostError(_("A post can have at most %(count)s photos.", count=posts.MAX_PHOTOS), "photos")
            posts.update_post(post, form.body.data, publish=bool(form.publish.data), photo_keys=kept + _photo_keys(form))
    except PostError as exc:
        getattr(form, exc.field or "body").errors = [exc.message]
        return render_page("community/dashboard_post_edit.html", block="form", status=422, form=form, post=post,
                           max_post=posts.MAX_POST)
    return redirect(url_for("community.dashboard_posts"), 303)


@bp.post("/dashboard/posts/<post_id>/delete")
@manager_required
def delete_post(post_id: str) -> Response:
    """Delete a post and its comments."""
    post = posts.get_post(parse_uuid(post_id))
    if post is None:
        abort(404)
    posts.delete_post(post)
    return redirect(url_for("community.dashboard_posts"), 303)


# --------------------------------------------------------------------------- reports and blocks


@bp.get("/dashboard/reports")
@manager_required
def dashboard_reports() -> Response:
    """Reports about the business's content: open ones, or ``?status=closed`` the handled ones."""
    closed = request.args.get("status") == "closed"
    if closed:
        items = moderation.list_reports(ACTIONED) + moderation.list_reports(DISMISSED)
        items.sort(key=lambda v: v.report.updated_at, reverse=True)
    else:
        items = moderation.list_reports(OPEN)
    return render_page("community/dashboard_reports.html", block="reports", reports=items, closed=closed,
                       blocks=blocks.list_blocks(), error=None, reason_labels=REASON_LABELS)


@bp.post("/dashboard/reports/<report_id>")
@manager_required
def act_on_report(report_id: str) -> Response:
    """Hide, restore, dismiss or block the author (``action``): 303 back to the list, or the
    list with the reason inline (422)."""
    report = moderation.get_report(parse_uuid(report_id))
    if report is None:
        abort(404)
    try:
        with db.session.begin_nested():
            moderation.act_on_report(report, request.form.get("action", ""), by=current_user.id)
    except ReportError as exc:
        return render_page("community/dashboard_reports.html", block="reports", status=422,
                           reports=moderation.list_reports(OPEN), closed=False, blocks=blocks.list_blocks(),
                           error=exc.message, reason_labels=REASON_LABELS)
    return redirect(url_for("community.dashboard_reports"), 303)


@bp.post("/dashboard/blocks/<block_id>/delete")
@manager_required
def unblock(block_id: str) -> Response:
    """Lift a block."""
    bid = parse_uuid(block_id)
    if bid is None or not blocks.unblock(bid):
        abort(404)
    return redirect(url_for("community.dashboard_reports"), 303)
