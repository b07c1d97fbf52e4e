"""Writing reviews: a customer reviews a completed booking (once, within 60 days of the visit),
edits it (for 14 days), and staff reply once (and may edit the reply).

Every change flushes and writes, in the same transaction, the outbox event ``review.changed``
with the business's exact aggregates after the change (:func:`announce_change`); a new review
also writes ``review.created`` (the owners' and managers' notification). Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.booking.models import Booking, BookingStatus, Customer
from app.catalog.models import Service
from app.catalog.translations import field_translations
from app.extensions import db
from app.formatting import format_number
from app.outbox.events import emit
from app.reviews.errors import (
    AlreadyReviewed,
    EditWindowClosed,
    EmptyReply,
    InvalidRating,
    NotCompleted,
    ReviewWindowClosed,
    TextTooLong,
    TooManyPhotos,
)
from app.reviews.models import (
    DIMENSIONS,
    MAX_PHOTOS,
    MAX_RATING,
    MAX_REPLY,
    MAX_TEXT,
    MIN_RATING,
    Review,
    ReviewStatus,
)
from app.reviews.queries import rating_summary, review_of_booking
from app.reviews.text import plain_text
from app.timeutil import utcnow

#: How long after the visit (its start) a review may be left.
REVIEW_WINDOW = timedelta(days=60)
#: How long after writing it the author may change a review.
EDIT_WINDOW = timedelta(days=14)
#: Outbox event after every create, edit, hide, restore or remove (payload: :func:`announce_change`).
CHANGED_EVENT = "review.changed"
#: Outbox event of a new review (payload: ``review_id``, ``rating``, ``service``, ``author``).
CREATED_EVENT = "review.created"


def author_name(full_name: str) -> str:
    """The name shown with a review: first name and last initial (``"Anna Kask"`` -> ``"Anna K."``),
    ``"A customer"`` when the record has no usable name (e.g. after erasure)."""
    parts = [p for p in (full_name or "").split() if p]
    if not parts:
        return "A customer"
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0].upper()}."


def check_rating(value: Any, field: str = "rating", *, required: bool = True) -> int | None:
    """``value`` as a whole-number rating 1–5 (an int, or a string of one digit from a form);
    ``None`` when absent and not ``required``.

    Raises:
        InvalidRating: missing when required, or not a whole number from 1 to 5 (``field`` named).
    """
    if value is None or value == "":
        if required:
            raise InvalidRating(_("Choose a rating from 1 to 5 stars."), field)
        return None
    if isinstance(value, bool):
        raise InvalidRating(_("A rating is a whole number from 1 to 5."), field)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not MIN_RATING <= value <= MAX_RATING:
        raise InvalidRating(_("A rating is a whole number from 1 to 5."), field)
    return value


def check_text(value: str | None, field: str = "text", limit: int = MAX_TEXT) -> str:
    """``value`` as sanitised plain text (:func:`app.reviews.text.plain_text`) of at most ``limit`` characters.

    Raises:
        TextTooLong: longer than ``limit`` after sanitising (``field`` named).
    """
    text = plain_text(value)
    if len(text) > limit:
        raise TextTooLong(_("Please keep it to %(limit)s characters (this is %(length)s).", limit=format_number(limit),
                            length=format_number(len(text))), field)
    return text


def check_dimensions(ratings: Mapping[str, Any] | None) -> dict[str, int | None]:
    """The four dimension ratings of ``ratings`` (each optional), validated; unknown keys refused.

    Raises:
        InvalidRating: a dimension that is not 1–5 (``field`` ``ratings.<name>``) or an unknown one.
    """
    ratings = dict(ratings or {})
    unknown = sorted(set(ratings) - set(DIMENSIONS))
    if unknown:
        raise InvalidRating(_("Unknown rating '%(name)s'; rate %(names)s.", name=unknown[0], names=", ".join(DIMENSIONS)),
                            f"ratings.{unknown[0]}")
    return {d: check_rating(ratings.get(d), f"ratings.{d}", required=False) for d in DIMENSIONS}


def check_photos(keys: list[str] | None) -> list[str]:
    """``keys`` (storage keys of already stored review photos) as a list of at most :data:`MAX_PHOTOS`.

    Raises:
        TooManyPhotos: more than :data:`MAX_PHOTOS`.
    """
    keys = list(keys or [])
    if len(keys) > MAX_PHOTOS:
        raise TooManyPhotos(_("Add at most %(count)s photos.", count=MAX_PHOTOS))
    return keys


def review_refusal(booking: Booking, now: datetime | None = None) -> str | None:
    """Why ``booking`` cannot be reviewed now, in words, or ``None`` when it can (completed, no
    review yet, within :data:`REVIEW_WINDOW` of its start)."""
    try:
        check_reviewable(booking, now)
    except (NotCompleted, AlreadyReviewed, ReviewWindowClosed) as exc:
        return exc.message
    return None


def check_reviewable(booking: Booking, now: datetime | None = None) -> None:
    """Refuse a new review of ``booking`` unless it is completed, has none yet and its start was
    at most :data:`REVIEW_WINDOW` ago (``now`` default: the current time, UTC).

    Raises:
        NotCompleted, AlreadyReviewed, ReviewWindowClosed.
    """
    now = now or utcnow()
    if booking.status != BookingStatus.COMPLETED.value:
        raise NotCompleted(_("You can review a visit once it has taken place and the business has marked it "
                             "as completed."))
    if review_of_booking(booking.id) is not None:
        raise AlreadyReviewed(_("You have already reviewed this visit. You can change your review for "
                                "%(days)s days after writing it.", days=EDIT_WINDOW.days))
    if now - booking.starts_at > REVIEW_WINDOW:
        raise ReviewWindowClosed(_("Reviews can be left up to %(days)s days after the visit, and "
                                   "that time has passed for this one.", days=REVIEW_WINDOW.days))


def announce_change(review: Review) -> dict[str, Any]:
    """Write the outbox event ``review.changed`` for ``review``'s business (in scope) with the
    aggregates after the change: ``{"review_id": str, "average": float|None, "count": int,
    "dimensions": {name: float|None}}``; returns that payload. Flushes first."""
    db.session.flush()
    payload = {"review_id": str(review.id), **rating_summary().as_payload()}
    emit(CHANGED_EVENT, payload)
    return payload


def create_review(booking: Booking, *, rating: Any, ratings: Mapping[str, Any] | None = None,
                  text: str | None = None, photo_keys: list[str] | None = None, now: datetime | None = None,
                  notify_business: bool = True, quiet: bool = False) -> Review:
    """The booking's customer reviews it: overall ``rating`` 1–5, optional dimension ``ratings``
    (keys of :data:`DIMENSIONS`, 1–5 each), optional ``text`` (sanitised, at most 2,000
    characters) and ``photo_keys`` (at most 3 photos already stored with
    :func:`app.storage.images.store_photo`, kind ``review``). The caller has established that the person is the booking's customer (its manage
    token, or the signed-in account owning the customer record). Snapshots the service's name, the
    visit's start and the author's shown name. Flushes; writes ``review.created`` (unless
    ``notify_business`` is false) and ``review.changed`` — neither when ``quiet`` (demo data: the
    seed rebuilds the marketplace listings itself, and thousands of events would hold up the queue).

    Raises:
        NotCompleted, AlreadyReviewed, ReviewWindowClosed: the booking cannot be reviewed (now).
        InvalidRating, TextTooLong, TooManyPhotos: bad values (``field`` names the input).
    """
    now = now or utcnow()
    check_reviewable(booking, now)
    overall = check_rating(rating)
    dims = check_dimensions(ratings)
    body = check_text(text)
    photos = check_photos(photo_keys)
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    service_name = service.name if service is not None else "Visit"
    customer_name = db.session.scalar(sa.select(Customer.name).where(Customer.id == booking.customer_id)) or ""
    review = Review(booking_id=booking.id, customer_id=booking.customer_id, author_name=author_name(customer_name),
                    service_name=service_name, translations=field_translations(service, "name", "service_name"), visit_at=booking.starts_at, rating=overall, text=body, photo_keys=photos,
                    status=ReviewStatus.VISIBLE.value, created_at=now, **dims)
    db.session.add(review)
    db.session.flush()
    if quiet:
        return review
    if notify_business:
        emit(CREATED_EVENT, {"review_id": str(review.id), "rating": overall, "service": service_name,
                             "author": review.author_name}, dedup_key=f"review:{review.id}")
    announce_change(review)
    return review


def can_edit(review: Review, now: datetime | None = None) -> bool:
    """True while the author may still change ``review``: it is shown and was written at most
    :data:`EDIT_WINDOW` before ``now``."""
    return review.visible and (now or utcnow()) - review.created_at <= EDIT_WINDOW


def edit_until(review: Review) -> datetime:
    """When the author's editing window closes (tz-aware UTC)."""
    return review.created_at + EDIT_WINDOW


def edit_review(review: Review, *, rating: Any, ratings: Mapping[str, Any] | None = None,
                text: str | None = None, photo_keys: list[str] | None = None, now: datetime | None = None) -> Review:
    """The author changes ``review`` (same inputs as :func:`create_review`, all replaced, except
    ``photo_keys``: ``None`` keeps the photos) within :data:`EDIT_WINDOW` of writing it; sets
    ``edited_at``. Flushes; writes ``review.changed``.

    Raises:
        EditWindowClosed: too late, or the review is hidden or removed.
        InvalidRating, TextTooLong, TooManyPhotos: bad values.
    """
    now = now or utcnow()
    if not can_edit(review, now):
        raise EditWindowClosed(_("A review can be changed for %(days)s days after it was written; "
                                 "this one can no longer be changed.", days=EDIT_WINDOW.days))
    review.rating = check_rating(rating)
    for name, value in check_dimensions(ratings).items():
        setattr(review, name, value)
    review.text = check_text(text)
    if photo_keys is not None:
        review.photo_keys = check_photos(photo_keys)
    review.edited_at = now
    announce_change(review)
    return review


def reply_to_review(review: Review, text: str | None, user_id: uuid.UUID | None,
                    now: datetime | None = None) -> Review:
    """The business's public reply to ``review`` (one per review; calling again edits it): plain
    text, 1–2,000 characters after sanitising, by account ``user_id``. Flushes.

    Raises:
        EmptyReply: no text left after sanitising.
        TextTooLong: over 2,000 characters (``field`` ``reply``).
    """
    body = check_text(text, "reply", MAX_REPLY)
    if not body:
        raise EmptyReply(_("Write a reply before sending it."))
    review.reply_text = body
    review.replied_at = now or utcnow()
    review.replied_by = user_id
    db.session.flush()
    return review
