"""Posts on the business's host: ``/posts`` (every published post, newest first) and
``/posts/<id>`` (one post with its comments; signed-in customers comment there). Drafts,
hidden posts and hidden comments are never served (404 / left out). A blocked person cannot
comment (403, the reason inline)."""

from __future__ import annotations

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.community import bp
from app.blueprints.community.forms import CommentForm
from app.blueprints.community.limits import comment_limits
from app.community import blocks, posts
from app.community.blocks import Blocked
from app.community.posts import PostError
from app.extensions import db
from app.web import parse_uuid, render_page, tenant_required

#: Posts per page of ``/posts``.
PAGE = 20


@bp.get("/posts")
@tenant_required
def posts_page() -> Response:
    """The business's published posts, newest first (``?page=`` from 1)."""
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    found = posts.published_posts(limit=PAGE + 1, offset=(page - 1) * PAGE)
    shown = found[:PAGE]
    return render_page("community/posts.html", block="posts", tenant=g.tenant, posts=shown,
                       counts=posts.comment_counts([p.id for p in shown]), page=page, more=len(found) > PAGE)


def _post_page(post: posts.Post, form: CommentForm, *, status: int = 200, error: str | None = None) -> Response:
    blocked = current_user.is_authenticated and blocks.is_blocked(current_user.id)
    return render_page("community/post.html", block="comments", status=status, tenant=g.tenant, post=post,
                       comments=posts.visible_comments(post), form=form, error=error, max_comment=posts.MAX_COMMENT,
                       blocked=blocked)


@bp.get("/posts/<post_id>")
@tenant_required
def post_page(post_id: str) -> Response:
    """One published post with its visible comments and, for a signed-in customer, the comment form."""
    post = posts.visible_post(parse_uuid(post_id))
    if post is None:
        abort(404)
    return _post_page(post, CommentForm(formdata=None))


@bp.post("/posts/<post_id>/comments")
@comment_limits
@tenant_required
def add_comment(post_id: str) -> Response:
    """Comment on a post (signed-in customers only): 303 back to the post, or the post page with
    the error inline (422; 403 when blocked)."""
    post = posts.visible_post(parse_uuid(post_id))
    if post is None:
        abort(404)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("community.post_page", post_id=post.id)))
    form = CommentForm()
    if not form.validate():
        return _post_page(post, form, status=400)
    try:
        with db.session.begin_nested():
            comment = posts.add_comment(post, user_id=current_user.id, name=current_user.name or "Customer",
                                        body=form.body.data)
    except Blocked as exc:
        return _post_page(post, form, status=403, error=exc.message)
    except PostError as exc:
        form.body.errors = [exc.message]
        return _post_page(post, form, status=422)
    return redirect(url_for("community.post_page", post_id=post.id) + f"#c{comment.id}", 303)
