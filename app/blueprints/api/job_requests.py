"""``POST /api/v1/job-requests`` on the platform's apex host: a customer's job request from code.

The body is :class:`~app.blueprints.api.job_requests_schemas.JobRequestCreate`. The request is
checked whole by :func:`app.leads.submit.submit_request` (the wizard's own function): 201 with
``{"id", "status", "complexity_tier", "manage_url"}``; 422 problem+json whose ``errors`` name
each field at fault (``answers.<question id>`` for an unknown question, a missing required
answer or a wrong type; ``location.postcode`` outside every service area; …). Requests through
the API are a guest's: ``unconfirmed`` until the emailed link is followed. Rate-limited per
client IP (:data:`JOB_REQUEST_API_LIMIT`). Business hosts answer 404.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from app.audit.service import request_actor
from app.blueprints.api import bp
from app.blueprints.api.job_requests_schemas import JobRequestCreate, JobRequestCreated
from app.blueprints.api.schemas import field_errors
from app.errors import InputError
from app.extensions import limiter
from app.leads.models import JobRequest
from app.leads.questions import AnswersInvalid
from app.leads.submit import submit_request
from app.web import apex_only, problem

#: Job requests per client IP through the API (Flask-Limiter syntax).
JOB_REQUEST_API_LIMIT = "10 per hour;30 per day"
#: Largest request body accepted (bytes).
MAX_BODY_BYTES = 64 * 1024


def unprocessable(errors: list[dict[str, str]]) -> Response:
    """A 422 problem+json listing ``errors`` (``{"field", "message"}``), its detail naming them."""
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    detail = errors[0]["message"] if len(errors) == 1 else _("The request has invalid fields: %(fields)s.", fields=fields)
    return problem(422, "Unprocessable Content", detail, errors=errors)


def read_body() -> tuple[dict[str, Any] | None, Response | None]:
    """``(body, None)`` for a JSON object body, else ``(None, problem)`` (413, 415 or 400)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None, problem(413, "Content Too Large", _("The request body is larger than %(num)d bytes.", num=MAX_BODY_BYTES))
    request.max_content_length = MAX_BODY_BYTES
    if not request.is_json:
        return None, problem(415, "Unsupported Media Type",
                             _("Send the body as JSON with 'Content-Type: application/json'."))
    try:
        data = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, problem(400, "Bad Request", _("The request body is not valid JSON."))
    if not isinstance(data, dict):
        return None, problem(400, "Bad Request", _("The request body must be a JSON object."))
    return data, None


@bp.post("/job-requests")
@apex_only
@limiter.limit(JOB_REQUEST_API_LIMIT)
def create_job_request() -> Response:
    """Submit a job request (module docstring); nothing is written unless the answer is 201."""
    data, refused = read_body()
    if refused is not None:
        return refused
    try:
        body = JobRequestCreate.model_validate(data)
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    draft = JobRequest(
        category_slug=body.category, answers=body.answers, postcode=body.location.postcode or "",
        latitude=body.location.lat, longitude=body.location.lon, timing_kind=body.timing.kind,
        timing_start=body.timing.start, timing_end=body.timing.end, contact_name=body.contact.name,
        contact_email=body.contact.email, contact_phone=body.contact.phone)
    try:
        done = submit_request(draft, actor=request_actor())
    except AnswersInvalid as exc:
        return unprocessable(exc.errors)
    except InputError as exc:
        return unprocessable([{"field": exc.field or "body", "message": exc.message}])
    out = JobRequestCreated(id=done.job_request.id, status=done.job_request.status,
                            complexity_tier=done.job_request.complexity_tier, manage_url=done.manage_url)
    return current_app.response_class(out.model_dump_json(), status=201, mimetype="application/json")
