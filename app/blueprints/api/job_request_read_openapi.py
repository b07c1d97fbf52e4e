"""``GET /job-requests/{id}``'s part of the OpenAPI document (:func:`app.blueprints.api.openapi.build_spec`
adds :func:`job_request_read_paths` and the models of :data:`JOB_REQUEST_READ_RESPONSES`)."""

from __future__ import annotations

from typing import Any

from app.blueprints.api import schemas as s
from app.blueprints.api.job_request_read import JobRequestOut
from app.blueprints.api.review_openapi import THROTTLED, answer, refusal
from app.tenants.urls import platform_url

#: Response models of the endpoint (component schemas).
JOB_REQUEST_READ_RESPONSES = (JobRequestOut,)


def job_request_read_paths() -> dict[str, Any]:
    """The path item of ``GET /job-requests/{job_request_id}`` (apex)."""
    servers = [{"url": platform_url("/api/v1"), "description": "The platform's apex host."}]
    return {"/job-requests/{job_request_id}": {"get": {
        "servers": servers, "operationId": "getJobRequest", "summary": "Read your job request", "tags": ["job-requests"],
        "description": "On the platform's apex host. The customer's job request with its manage token (the `t` "
                       "parameter of `manage_url`) as `Authorization: Bearer <token>` or the `t` query parameter: "
                       "`status`, `complexity_tier`, the `offers` of the providers who took it up (business, "
                       "price range in minor units, currency, estimated minutes, status) and the `history` of what "
                       "happened, oldest first.",
        "parameters": [
            {"name": "job_request_id", "in": "path", "required": True, "description": "The request's id.",
             "schema": {"type": "string", "format": "uuid"}},
            {"name": "t", "in": "query", "required": False, "description": "The manage token (or send it as Bearer).",
             "schema": {"type": "string"}},
        ],
        "security": [{"bearerAuth": []}, {}],
        "responses": {
            "200": answer("The request, its offers and history.", JobRequestOut),
            "400": refusal("A query parameter contains a control character; `errors` names it.",
                           s.ValidationProblem),
            "404": refusal("No such request, or the token is missing or not this request's (the same answer).",
                           s.Problem),
            "429": THROTTLED,
        },
    }}}
