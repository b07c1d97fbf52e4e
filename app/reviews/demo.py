"""Demo reviews for the seeded businesses: varied ratings, texts and replies on a share of each
business's completed bookings, written through the same rules as real reviews."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.reviews.models import DIMENSIONS, Review
from app.reviews.service import REVIEW_WINDOW, create_review, reply_to_review
from app.timeutil import utcnow

#: Share of completed bookings that get a review, in tenths (chosen by booking id, so it is stable).
REVIEWED_TENTHS = 6
#: Overall ratings drawn for demo reviews, with their weights (most people are pleased).
RATING_WEIGHTS = {5: 50, 4: 30, 3: 10, 2: 6, 1: 4}
TEXTS: dict[int, tuple[str, ...]] = {
    5: ("Fantastic as always, I would not go anywhere else.", "Friendly, on time and really skilled. Thank you!",
        "Best visit I've had in years. Booking again next month.", "Spot on. Exactly what I asked for.", ""),
    4: ("Very good, just a short wait at the start.", "Lovely staff and a great result.",
        "Good value and easy to book online.", ""),
    3: ("Fine, but not quite what I had in mind.", "Okay visit. It ran a bit late.", ""),
    2: ("Had to wait twenty minutes and felt rushed.", "The result was not what we agreed on."),
    1: ("Disappointing. Nobody told me about the delay.",),
}
REPLIES: dict[int, tuple[str, ...]] = {
    5: ("Thank you so much, see you next time!", "Thanks for the kind words!"),
    4: ("Thank you! We are working on keeping to time.", "Glad you enjoyed it, thanks for the review."),
    3: ("Thanks for the honest feedback, we'd love to get it right next time.",),
    2: ("We're sorry to hear this. Please get in touch so we can make it right.",),
    1: ("We apologise. Please contact us directly, we want to fix this.",),
}


def _pick(rng: random.Random, rating: int, texts: dict[int, tuple[str, ...]]) -> str:
    return rng.choice(texts[rating])


def fill_demo_reviews(rng: random.Random) -> int:
    """Review about 60% of the completed bookings of the business in scope that have none yet
    (which ones is fixed by the booking id, so running it again adds none twice), each written a
    day or so after the visit: overall rating weighted towards 4–5, dimensions near it (some left
    out), a text or none, and a business reply on about 40%. Visits older than the review window
    are reviewed as of shortly after the visit. Flushes; returns how many reviews were written.
    New-review notifications are not sent for demo data."""
    reviewed = sa.select(Review.booking_id)
    bookings = list(db.session.scalars(
        sa.select(Booking).where(Booking.status == BookingStatus.COMPLETED.value, Booking.id.not_in(reviewed))
        .order_by(Booking.starts_at)))
    now = utcnow()
    written = 0
    for booking in bookings:
        if booking.id.int % 10 >= REVIEWED_TENTHS or booking.starts_at > now:
            continue
        at = min(now, booking.ends_at + timedelta(hours=rng.randint(2, 60)))
        at = min(at, booking.starts_at + REVIEW_WINDOW)
        rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        ratings = {d: max(1, min(5, rating + rng.choice((-1, 0, 0, 0, 1)))) for d in DIMENSIONS
                   if rng.random() < 0.75}
        review = create_review(booking, rating=rating, ratings=ratings, text=_pick(rng, rating, TEXTS), now=at,
                               quiet=True)
        if rng.random() < 0.4:
            reply_to_review(review, _pick(rng, rating, REPLIES), None, now=min(now, at + timedelta(hours=20)))
        written += 1
    return written
