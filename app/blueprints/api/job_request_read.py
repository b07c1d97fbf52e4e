"""``GET /api/v1/job-requests/{id}`` on the platform's apex: the customer's job request read with
its manage token (``Authorization: Bearer <token>`` or ``?t=<token>``): status, complexity tier,
the offers (provider, price range, status) and the history. A wrong or missing token answers 404
problem+json, exactly like a request that does not exist; business hosts answer 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import current_app, request
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from app.blueprints.api import bp
from app.extensions import limiter
from app.leads.access import request_for_token
from app.leads.customer import offers_for
from app.leads.history import request_history
from app.web import apex_only, parse_uuid, problem

#: Reads per client IP.
READ_LIMIT = "120 per minute"


class JobOfferOut(BaseModel):
    """One provider's offer: ``price_min``/``price_max`` minor units of ``currency`` (null until
    they quote), ``duration_minutes`` their estimate, ``status`` the offer's state."""

    business: str
    price_min: int | None
    price_max: int | None
    currency: str | None = Field(description="ISO 4217 code.")
    duration_minutes: int | None
    status: Literal["claimed", "quoted", "won", "lost"]


class JobHistoryOut(BaseModel):
    """One event of the request (``submitted``, ``sent``, ``claimed``, ``quoted``, ``won``,
    ``lost``, ``booked``, ``closed``, ``cancelled``) at an RFC 3339 instant, with the business it
    concerns when named."""

    event: str
    at: datetime
    business: str | None = None


class JobRequestOut(BaseModel):
    """A job request as its customer reads it."""

    id: str
    status: str
    title: str
    complexity_tier: int
    submitted_at: datetime | None
    offers: list[JobOfferOut]
    history: list[JobHistoryOut]


def _token() -> str | None:
    scheme, _sep, secret = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return secret.strip()
    return request.args.get("t") or None


@bp.get("/job-requests/<job_request_id>")
@apex_only
@limiter.limit(READ_LIMIT)
def job_request_read(job_request_id: str) -> Response:
    """The job request ``job_request_id`` for the holder of its manage token (see the module docstring)."""
    rid = parse_uuid(job_request_id)
    found = request_for_token(rid, _token()) if rid else None
    if found is None:
        return problem(404, "Not Found", _("No job request with this id for this manage token."))
    out = JobRequestOut(
        id=str(found.id), status=found.status, title=found.title, complexity_tier=found.complexity_tier,
        submitted_at=found.submitted_at,
        offers=[JobOfferOut(business=o.business, price_min=o.price_min, price_max=o.price_max, currency=o.currency,
                            duration_minutes=o.duration_minutes, status=o.status) for o in offers_for(found.id)],
        history=[JobHistoryOut(event=e.event, at=e.at, business=e.business) for e in request_history(found)])
    resp = current_app.response_class(out.model_dump_json(), mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp
