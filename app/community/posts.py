"""Posts on a business's profile and customers' comments on them.

Text is stored as plain text: whatever markup is typed is removed by ``nh3`` (and entities
decoded), then rendered escaped. A post is published (``published_at`` tz-aware UTC) or a
draft; hidden posts and comments (after a report, :mod:`app.community.moderation`) and drafts
are never served to the public. Tenant in scope; functions flush, never commit.
"""

from __future__ import annotations

import html
import uuid

import nh3
import sqlalchemy as sa
from flask_babel import gettext as _

from app.community import blocks
from app.community.models import DRAFT, PUBLISHED, Post, PostComment
from app.errors import InputError
from app.extensions import db
from app.formatting import format_number
from app.outbox.events import emit
from app.timeutil import utcnow

MAX_POST = 2000
MAX_COMMENT = 1000
MAX_PHOTOS = 6
#: Posts shown on the profile.
PROFILE_POSTS = 3
#: Outbox events: a post became visible on the profile / stopped being visible.
POST_PUBLISHED = "post.published"
POST_REMOVED = "post.removed"


class PostError(InputError):
    """Invalid post or comment text (``field`` ``"body"``)."""

    field = "body"


def plain_text(raw: str | None, *, limit: int, what: str = "post") -> str:
    """``raw`` as plain text: markup removed by ``nh3``, entities decoded, line endings
    normalised, surrounding space trimmed.

    Raises:
        PostError: nothing left, or longer than ``limit`` characters.
    """
    text = html.unescape(nh3.clean((raw or "").replace("\x00", ""), tags=set(), strip_comments=True))
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise PostError(_("Write something: a comment cannot be empty.") if what == "comment"
                        else _("Write something: a post cannot be empty."))
    if len(text) > limit:
        limits = {"limit": format_number(limit), "length": format_number(len(text))}
        raise PostError(_("A comment can be at most %(limit)s characters (this one has %(length)s).", **limits)
                        if what == "comment" else
                        _("A post can be at most %(limit)s characters (this one has %(length)s).", **limits))
    return text


def get_post(post_id: uuid.UUID | None) -> Post | None:
    """The business's post with this id (any status), or ``None``."""
    if post_id is None:
        return None
    return db.session.scalar(sa.select(Post).where(Post.id == post_id))


def visible_post(post_id: uuid.UUID | None) -> Post | None:
    """The post with this id when the public may see it (published, not hidden), else ``None``."""
    post = get_post(post_id)
    return post if post is not None and is_visible(post) else None


def is_visible(post: Post) -> bool:
    """True when ``post`` is published and not hidden."""
    return post.status == PUBLISHED and post.hidden_at is None


def create_post(body: str | None, *, author_user_id: uuid.UUID | None, publish: bool = True,
                photo_keys: list[str] | None = None) -> Post:
    """Write a post (published now, or a draft). Flushes; a published post emits
    :data:`POST_PUBLISHED`.

    Raises:
        PostError: empty or longer than :data:`MAX_POST` characters, or more than
            :data:`MAX_PHOTOS` photos.
    """
    keys = list(photo_keys or [])
    if len(keys) > MAX_PHOTOS:
        raise PostError(_("A post can have at most %(count)s photos.", count=MAX_PHOTOS), "photos")
    now = utcnow()
    post = Post(body=plain_text(body, limit=MAX_POST), photo_keys=keys, status=PUBLISHED if publish else DRAFT,
                author_user_id=author_user_id, published_at=now if publish else None, created_at=now,
                updated_at=now)
    db.session.add(post)
    db.session.flush()
    if publish:
        emit(POST_PUBLISHED, {"post_id": str(post.id)})
    return post


def update_post(post: Post, body: str | None, *, publish: bool, photo_keys: list[str] | None = None) -> Post:
    """Change a post's text, status and (when given) photos (publishing a draft stamps
    ``published_at`` now; unpublishing keeps it for the record). Flushes; emits
    :data:`POST_PUBLISHED` or :data:`POST_REMOVED` when its visibility changed.

    Raises:
        PostError: as :func:`create_post`.
    """
    was = is_visible(post)
    if photo_keys is not None:
        if len(photo_keys) > MAX_PHOTOS:
            raise PostError(_("A post can have at most %(count)s photos.", count=MAX_PHOTOS), "photos")
        post.photo_keys = list(photo_keys)
    post.body = plain_text(body, limit=MAX_POST)
    if publish and post.status != PUBLISHED:
        post.published_at = utcnow()
    post.status = PUBLISHED if publish else DRAFT
    post.updated_at = utcnow()
    db.session.flush()
    if is_visible(post) != was:
        emit(POST_PUBLISHED if is_visible(post) else POST_REMOVED, {"post_id": str(post.id)})
    return post


def delete_post(post: Post) -> None:
    """Delete a post and its comments. Flushes; emits :data:`POST_REMOVED`."""
    post_id = post.id
    db.session.delete(post)
    db.session.flush()
    emit(POST_REMOVED, {"post_id": str(post_id)})


def set_post_hidden(post_id: uuid.UUID, hidden: bool) -> bool:
    """Hide (or restore) a post after a report; True when the post exists. Flushes."""
    post = get_post(post_id)
    if post is None:
        return False
    was = is_visible(post)
    post.hidden_at = utcnow() if hidden else None
    db.session.flush()
    if is_visible(post) != was:
        emit(POST_PUBLISHED if is_visible(post) else POST_REMOVED, {"post_id": str(post.id)})
    return True


def list_posts(limit: int = 100) -> list[Post]:
    """Every post of the business (drafts and hidden ones too, for its staff), newest first."""
    return list(db.session.scalars(sa.select(Post).order_by(
        sa.func.coalesce(Post.published_at, Post.created_at).desc()).limit(limit)))


def published_posts(limit: int = 20, offset: int = 0) -> list[Post]:
    """The posts the public sees (published, not hidden), newest first."""
    return list(db.session.scalars(
        sa.select(Post).where(Post.status == PUBLISHED, Post.hidden_at.is_(None))
        .order_by(Post.published_at.desc(), Post.id).limit(limit).offset(offset)))


def comment_counts(post_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Visible comments per post (posts without any are absent). One query."""
    if not post_ids:
        return {}
    rows = db.session.execute(sa.select(PostComment.post_id, sa.func.count()).where(
        PostComment.post_id.in_(post_ids), PostComment.hidden_at.is_(None)).group_by(PostComment.post_id))
    return {pid: int(n) for pid, n in rows}


def visible_comments(post: Post, limit: int = 200) -> list[PostComment]:
    """The post's comments the public sees (not hidden), oldest first."""
    return list(db.session.scalars(sa.select(PostComment).where(
        PostComment.post_id == post.id, PostComment.hidden_at.is_(None))
        .order_by(PostComment.created_at, PostComment.id).limit(limit)))


def add_comment(post: Post, *, user_id: uuid.UUID, name: str, body: str | None) -> PostComment:
    """A signed-in customer comments on a visible post. Flushes.

    Raises:
        PostError: empty or longer than :data:`MAX_COMMENT` characters; or the post is not visible.
        Blocked: the business blocked this person.
    """
    if not is_visible(post):
        raise PostError(_("This post is no longer available."), None)
    text = plain_text(body, limit=MAX_COMMENT, what="comment")
    blocks.check_not_blocked(user_id)
    comment = PostComment(post_id=post.id, user_id=user_id, author_name=(name or "Customer")[:120], body=text)
    db.session.add(comment)
    db.session.flush()
    return comment


def get_comment(comment_id: uuid.UUID) -> PostComment | None:
    """The business's comment with this id (hidden or not), or ``None``."""
    return db.session.scalar(sa.select(PostComment).where(PostComment.id == comment_id))


def set_comment_hidden(comment_id: uuid.UUID, hidden: bool) -> bool:
    """Hide (or restore) a comment after a report; True when it exists. Flushes."""
    comment = get_comment(comment_id)
    if comment is None:
        return False
    comment.hidden_at = utcnow() if hidden else None
    db.session.flush()
    return True
