"""The API's review endpoints on the tenant host.

* ``GET /api/v1/reviews?page=``: the business's exact rating summary and its visible reviews,
  newest first, 10 per page. Public (no token). Hidden and removed reviews and hidden replies
  are never served.
* ``POST /api/v1/bookings/{id}/review``: the booking's customer reviews it, authorised by the
  booking's manage token as ``Authorization: Bearer``. 201 with the review; 401 without a valid
  token; 403 for a staff API token (reviews are the customer's); 404 for another booking's or
  business's id; 409 when the booking is not completed, already reviewed or too long ago;
  422 naming the field for bad values. Rate-limited per client.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Response

from app.blueprints.api import bp
from app.blueprints.api.review_schemas import (
    DimensionsOut,
    RatingsOut,
    ReplyOut,
    ReviewCreate,
    ReviewList,
    ReviewOut,
    SummaryOut,
)
from app.blueprints.api.schemas import field_errors
from app.booking.models import Booking
from app.extensions import limiter
from app.identity.service import find_api_token
from app.reviews.errors import AlreadyReviewed, InvalidRating, NotCompleted, ReviewWindowClosed, TextTooLong
from app.reviews.links import booking_from_review_token
from app.reviews.models import Review
from app.reviews.queries import PER_PAGE, rating_summary, visible_reviews
from app.reviews.service import create_review
from app.storage import media_path
from app.tenants.urls import tenant_url
from app.web import parse_uuid, problem, tenant_required

#: Review posts per client IP through the API (Flask-Limiter syntax).
REVIEW_API_LIMIT = "10 per hour;30 per day"
#: Largest request body accepted (bytes).
MAX_BODY_BYTES = 16 * 1024
#: Highest page number accepted.
MAX_PAGE = 100000


class Refused(Exception):
    """Raised inside these views to answer ``response`` (a problem+json) at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(Refused)
def refused(exc: Refused) -> Response:
    """Answer a :class:`Refused` with its problem (the request's unit of work rolls back)."""
    return exc.response


def json_answer(model: BaseModel, status: int = 200) -> Response:
    """``model`` as ``application/json`` with ``status``."""
    return current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")


def invalid(errors: list[dict[str, str]]) -> Refused:
    """A 422 problem listing ``errors`` (``{"field", "message"}``), its detail naming the fields."""
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return Refused(problem(422, "Unprocessable Content", _("The request has invalid fields: %(fields)s.", fields=fields),
                           errors=errors))


def review_out(review: Review) -> ReviewOut:
    """The public shape of a visible review (a hidden reply is left out)."""
    reply = review.public_reply
    return ReviewOut(id=review.id, rating=review.rating, ratings=RatingsOut(**review.ratings), text=review.text,
                     created_at=review.created_at,
                     reply=ReplyOut(text=reply, replied_at=review.replied_at) if reply and review.replied_at else None,
                     photos=[tenant_url(g.tenant, media_path(key)) for key in review.photo_keys])


def summary_out() -> SummaryOut:
    """The business's :func:`~app.reviews.queries.rating_summary` in the API's shape."""
    summary = rating_summary()
    return SummaryOut(average=summary.average, count=summary.count, dimensions=DimensionsOut(**summary.dimensions))


@bp.get("/reviews")
@tenant_required
def reviews_list() -> Response:
    """``{"summary", "reviews", "page", "has_more"}``: page ``page`` (default 1) of visible reviews."""
    extra = sorted(set(request.args) - {"page"})
    if extra:
        raise invalid([{"field": name, "message": "This parameter is not allowed."} for name in extra])
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise invalid([{"field": "page", "message": f"Give a page number from 1 to {MAX_PAGE}."}])
    page = int(raw)
    reviews, more = visible_reviews(page, PER_PAGE)
    return json_answer(ReviewList(summary=summary_out(), reviews=[review_out(r) for r in reviews], page=page,
                                  has_more=more))


def _unauthorized(detail: str, error: str | None = None) -> Refused:
    resp = problem(401, "Unauthorized", detail)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="Plaza API"' + (f', error="{error}"' if error else "")
    return Refused(resp)


def customer_booking(booking_id: str) -> Booking:
    """The booking named in the path, when the request carries its manage token as Bearer.

    Raises:
        Refused: 401 without a (valid) token, 403 for a staff API token, 404 for a malformed id,
            another business's or booking's id.
    """
    scheme, _sep, secret = request.headers.get("Authorization", "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise _unauthorized(_("Send the booking's manage token as 'Authorization: Bearer <token>'."))
    if find_api_token(secret) is not None:
        raise Refused(problem(403, "Forbidden", _("Only the customer can review a booking: send the booking's "
                                                "manage token, not a staff API token.")))
    booking = booking_from_review_token(secret)
    if booking is None:
        raise _unauthorized(_("The token is not valid for this business."), "invalid_token")
    if parse_uuid(booking_id) != booking.id:
        raise Refused(problem(404, "Not Found", _("There is no booking with this id.")))
    return booking


def object_body() -> dict[str, Any]:
    """The request's JSON object body.

    Raises:
        Refused: 413 too large, 415 not JSON, 400 empty, not UTF-8, not JSON or not an object.
    """
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise Refused(problem(413, "Content Too Large", _("The request body is larger than %(num)d bytes.", num=MAX_BODY_BYTES)))
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise Refused(problem(415, "Unsupported Media Type", _("Send the body as JSON with "
                                                             "'Content-Type: application/json'.")))
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(problem(400, "Bad Request", _("The request body is not valid UTF-8 JSON."))) from None
    if not isinstance(data, dict):
        raise Refused(problem(400, "Bad Request", _("The request body must be a JSON object.")))
    return data


@bp.post("/bookings/<booking_id>/review")
@limiter.limit(REVIEW_API_LIMIT)
@tenant_required
def review_create(booking_id: str) -> Response:
    """The customer reviews their completed booking; 201 with the review (see the module docstring)."""
    booking = customer_booking(booking_id)
    try:
        data = ReviewCreate.model_validate(object_body())
    except ValidationError as exc:
        raise invalid(field_errors(exc)) from None
    ratings = data.ratings.model_dump() if data.ratings is not None else None
    try:
        review = create_review(booking, rating=data.rating, ratings=ratings, text=data.text)
    except (NotCompleted, AlreadyReviewed, ReviewWindowClosed) as exc:
        return problem(409, "Conflict", exc.message)
    except (InvalidRating, TextTooLong) as exc:
        raise invalid([{"field": exc.field or "body", "message": exc.message}]) from None
    return json_answer(review_out(review), 201)
