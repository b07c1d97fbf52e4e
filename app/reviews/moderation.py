"""Moderation of reviews and replies (reports and the platform console call these): hide or
restore a review, hide or restore its reply, remove a review for good. Hidden content is never
served by a page or the API; the aggregates follow at once (``review.changed``)."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.reviews.errors import ReviewNotFound
from app.reviews.models import Review, ReviewStatus
from app.reviews.queries import get_review
from app.reviews.service import announce_change


def _review(review_id: uuid.UUID) -> Review:
    review = get_review(review_id)
    if review is None:
        raise ReviewNotFound(f"no review {review_id} in this business")
    return review


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
    return review
