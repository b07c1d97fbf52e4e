"""Demo posts for ``seed-demo`` (the lead's marketplace demo calls :func:`fill_demo_posts` per
business): a few published posts with plausible text, spread over the last weeks."""

from __future__ import annotations

import random
from datetime import timedelta

from app.community.posts import create_post
from app.timeutil import utcnow

#: Post texts; ``{name}`` is the business's name.
TEXTS = (
    "New season, new looks: our autumn menu is here. Book online and ask for the seasonal special.",
    "We are open late on Thursdays from next week, until 20:00.",
    "Thank you for 500 bookings at {name}! 10% off your next visit this month.",
    "Meet our newest team member, who joins us on Mondays and Tuesdays.",
    "Short notice gaps today: check the booking page for free times this afternoon.",
    "Gift cards are back in the shop, the perfect present.",
    "We renovated! Come and see the new space, coffee is on us this week.",
)


def fill_demo_posts(rng: random.Random, business_name: str, count: int | None = None) -> int:
    """Publish ``count`` (default 1–3, drawn from ``rng``) demo posts for the business in scope,
    dated over the last 30 days; returns how many. Flushes; the caller commits."""
    n = count if count is not None else rng.randint(1, 3)
    now = utcnow()
    for text in rng.sample(TEXTS, k=min(n, len(TEXTS))):
        post = create_post(text.format(name=business_name), author_user_id=None)
        post.published_at = post.created_at = post.updated_at = now - timedelta(days=rng.randint(0, 30),
                                                                                  hours=rng.randint(0, 23))
    return min(n, len(TEXTS))
