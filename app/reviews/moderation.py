"""Moderation of reviews and replies (reports and the platform console call these): hide or
restore a review, hide or restore its reply, remove a review for good. Hidden content is never
served by a page or the API; the aggregates follow at once (``review.changed``). A hidden or
removed review's photos are taken out of public reach after the commit
(:func:`app.storage.withhold.withhold`), so a copied photo link stops working too; restoring the
review puts them back."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.extensions import db
from app.reviews.errors import ReviewNotFound
from app.reviews.models import Review, ReviewStatus
from app.reviews.queries import get_review
from app.reviews.service import announce_change
from app.storage.local import default_storage
from app.storage.withhold import release, withhold
from app.uow import after_commit


def _review(review_id: uuid.UUID) -> Review:
    review = get_review(review_id)
    if review is None:
        raise ReviewNotFound(f"no review {review_id} in this business")
    return review


def _photos_follow(review: Review) -> None:
    """After the commit, withhold the photos of a review no longer shown (unless another shown
    review of the business uses the same stored photo) or release those of a shown one."""
    keys = list(review.photo_keys or [])
    if not keys:
        return
    if review.status == ReviewStatus.VISIBLE.value:
        after_commit(lambda: [release(default_storage(), key) for key in keys])
        return
    shared = set(db.session.scalars(sa.select(sa.func.unnest(Review.photo_keys)).where(
        Review.id != review.id, Review.status == ReviewStatus.VISIBLE.value, Review.photo_keys.overlap(keys))))
    private = [key for key in keys if key not in shared]
    if private:
        after_commit(lambda: [withhold(default_storage(), key) for key in private])


def set_review_hidden(review_id: uuid.UUID, hidden: bool) -> Review:
    """Hide (``hidden=True``) or restore review ``review_id`` of the business in scope. A removed
    review stays removed. Flushes; writes ``review.changed`` when the status changed.

    Raises:
        ReviewNotFound: no such review in the business in scope.
    """
    review = _review(review_id)
    if review.status == ReviewStatus.REMOVED.value:
        return review
    wanted = ReviewStatus.HIDDEN.value if hidden else ReviewStatus.VISIBLE.value
    if review.status != wanted:
        review.status = wanted
        announce_change(review)
        _photos_follow(review)
    return review


def set_reply_hidden(review_id: uuid.UUID, hidden: bool) -> Review:
    """Hide or restore the business's reply to review ``review_id`` (the review itself is
    untouched). Flushes.

    Raises:
        ReviewNotFound: no such review in the business in scope.
    """
    review = _review(review_id)
    review.reply_hidden = hidden
    db.session.flush()
    return review


def remove_review(review_id: uuid.UUID) -> Review:
    """Remove review ``review_id`` for good (status ``removed``: never served again, not counted).
    Flushes; writes ``review.changed``.

    Raises:
        ReviewNotFound: no such review in the business in scope.
    """
    review = _review(review_id)
    if review.status != ReviewStatus.REMOVED.value:
        review.status = ReviewStatus.REMOVED.value
        announce_change(review)
        _photos_follow(review)
    return review
