"""Verified reviews of a visit: ratings (overall and per dimension), text, the business's reply,
and exact aggregates per business.

* :mod:`app.reviews.models`: the ``review`` table (:class:`~app.reviews.models.Review`);
* :mod:`app.reviews.service`: create (only the customer of a completed booking, once, within 60
  days), edit (14 days), reply; each change emits ``review.changed`` with the new aggregates;
* :mod:`app.reviews.queries`: :func:`~app.reviews.queries.rating_summary` and the served lists;
* :mod:`app.reviews.moderation`: hide/restore a review or a reply, remove a review;
* :mod:`app.reviews.links`: the review page's link (the booking's manage token);
* :mod:`app.reviews.demo`: demo reviews for the seeded businesses.
"""
