"""Why a review, an edit or a reply is refused: :class:`app.errors.InputError` subclasses whose
``message`` is shown to the person as it is (on the page beside ``field``, or as the API's
problem ``detail``)."""

from __future__ import annotations

from app.errors import InputError


class ReviewRefused(InputError):
    """Base of every refusal about reviews."""


class NotCompleted(ReviewRefused):
    """The booking is not (or not yet) completed: only a visit that took place can be reviewed."""


class AlreadyReviewed(ReviewRefused):
    """The booking has a review already (one per booking; the author may edit it instead)."""


class ReviewWindowClosed(ReviewRefused):
    """More than :data:`app.reviews.service.REVIEW_WINDOW` has passed since the visit."""


class EditWindowClosed(ReviewRefused):
    """More than :data:`app.reviews.service.EDIT_WINDOW` has passed since the review was written,
    or the review is no longer shown (hidden or removed by moderation)."""


class InvalidRating(ReviewRefused):
    """A rating is missing or not a whole number from 1 to 5 (``field`` names it)."""

    field = "rating"


class TextTooLong(ReviewRefused):
    """The review text (or the reply, ``field`` ``reply``) is longer than allowed after sanitising."""

    field = "text"


class TooManyPhotos(ReviewRefused):
    """More photos than :data:`app.reviews.models.MAX_PHOTOS` on one review."""

    field = "photos"


class EmptyReply(ReviewRefused):
    """A reply with no text."""

    field = "reply"


class ReviewNotFound(LookupError):
    """No review with this id in the business in scope."""
