"""The review endpoints' part of the OpenAPI document (:func:`app.blueprints.api.openapi.build_spec`
adds :func:`review_paths` and the models of :data:`REVIEW_REQUESTS` / :data:`REVIEW_RESPONSES`)."""

from __future__ import annotations

from typing import Any

from app.blueprints.api import review_schemas as r
from app.blueprints.api import schemas as s

REF = "#/components/schemas/{model}"
PROBLEM = "application/problem+json"

#: Request and response models of the review endpoints (component schemas).
REVIEW_REQUESTS = (r.ReviewCreate,)
REVIEW_RESPONSES = (r.ReviewList, r.ReviewOut)


def ref(model: type) -> dict[str, str]:
    """``{"$ref": …}`` of a component model."""
    return {"$ref": REF.format(model=model.__name__)}


def answer(description: str, model: type, media: str = "application/json",
           headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A response object whose body is ``model``."""
    out: dict[str, Any] = {"description": description, "content": {media: {"schema": ref(model)}}}
    if headers:
        out["headers"] = headers
    return out


def refusal(description: str, model: type = s.Problem, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A problem+json response object."""
    return answer(description, model, PROBLEM, headers)


THROTTLED = refusal("Too many requests from this client; try again after `Retry-After` seconds.",
                    headers={"Retry-After": {"description": "Seconds to wait before trying again.",
                                             "schema": {"type": "integer", "minimum": 0}}})


def review_paths() -> dict[str, Any]:
    """The path items of ``GET /reviews`` and ``POST /bookings/{booking_id}/review``."""
    return {
        "/reviews": {"get": {
            "operationId": "listReviews", "summary": "Reviews of the business", "tags": ["reviews"],
            "description": "The exact rating summary over the business's visible reviews (`average` is null, never 0, "
                           "when there are none; each dimension's average counts only the reviews that rated it) "
                           "and one page of visible reviews, newest first, 10 per page, with the business's reply. "
                           "No token needed.",
            "parameters": [{"name": "page", "in": "query", "required": False, "description": "Page number, from 1.",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}}],
            "responses": {
                "200": answer("The summary and the page of reviews.", r.ReviewList),
                "400": refusal("A query parameter contains a control character; `errors` names it.",
                               s.ValidationProblem),
                "404": refusal("No such route here (also: every route on the platform's apex host)."),
                "422": refusal("`page` is not a whole number from 1 to 100000, or an unknown parameter was sent.",
                               s.ValidationProblem),
                "429": THROTTLED,
            },
        }},
        "/bookings/{booking_id}/review": {"post": {
            "operationId": "reviewBooking", "summary": "Review a completed booking", "tags": ["reviews"],
            "description": "The booking's customer reviews it, with the booking's manage token as "
                           "`Authorization: Bearer <token>` (a staff API token is refused with 403): an overall "
                           "`rating` 1–5, optional `ratings` of the four dimensions and optional `text` (HTML is "
                           "removed). Allowed once per booking, only when the booking is completed, up to 60 days "
                           "after the visit. Nothing is written unless the answer is 201.",
            "parameters": [{"name": "booking_id", "in": "path", "required": True, "description": "The booking's id.",
                            "schema": {"type": "string", "format": "uuid"}}],
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(r.ReviewCreate)}}},
            "responses": {
                "201": answer("Reviewed; the review as the public sees it.", r.ReviewOut),
                "400": refusal("The body is empty, not UTF-8, not valid JSON, or not a JSON object; or a JSON "
                               "string contains a control character (then `errors` names the field)."),
                "401": refusal("No token, or not a valid manage token of this business.",
                               headers={"WWW-Authenticate": {"description": "`Bearer realm=\"Plaza API\"`.",
                                                             "schema": {"type": "string"}}}),
                "403": refusal("A staff API token was sent: only the customer reviews a booking."),
                "404": refusal("No booking with this id here (also: malformed ids, another business's ids, and a "
                               "manage token of another booking)."),
                "409": refusal("The booking is not completed, already has a review, or its visit was more than "
                               "60 days ago."),
                "413": refusal("The body is larger than 16 KiB."),
                "415": refusal("The body is not sent as `application/json`."),
                "422": refusal("Invalid, missing or unknown fields (`errors` names each: `rating`, "
                               "`ratings.quality`, `text`…).", s.ValidationProblem),
                "429": THROTTLED,
            },
        }},
    }
