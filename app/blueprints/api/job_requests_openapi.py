"""The job-request endpoint's part of the OpenAPI document (:func:`app.blueprints.api.openapi.build_spec`
adds :func:`job_request_paths` and the models of :data:`JOB_REQUEST_REQUESTS` / :data:`JOB_REQUEST_RESPONSES`)."""

from __future__ import annotations

from typing import Any

from app.blueprints.api import job_requests_schemas as j
from app.blueprints.api import schemas as s
from app.blueprints.api.review_openapi import THROTTLED, answer, ref, refusal
from app.tenants.urls import platform_url

#: Request and response models of the job-request endpoint (component schemas).
JOB_REQUEST_REQUESTS = (j.JobRequestCreate,)
JOB_REQUEST_RESPONSES = (j.JobRequestCreated,)


def job_request_paths() -> dict[str, Any]:
    """The path item of ``POST /job-requests`` (on the apex)."""
    return {
        "/job-requests": {"post": {
            "operationId": "createJobRequest", "summary": "Ask providers nearby for a job", "tags": ["job-requests"],
            "servers": [{"url": platform_url("/api/v1"), "description": "The platform's apex host."}],
            "description": "Describes a job: its marketplace `category`, the `answers` to that category's questions "
                           "(question id -> a string, a list of option values, a number, a boolean or a date "
                           "`YYYY-MM-DD`, by the question's kind; photos can only be added in the web wizard), "
                           "where (`location.postcode` inside some provider's service area, or `lat`/`lon`), "
                           "when (`timing.kind` `flexible`, `urgent` or `range` with `start` and `end`) and who "
                           "(`contact`). The answers give a 0–100 complexity score and its `complexity_tier`. "
                           "The request stays `unconfirmed` until the customer follows the link emailed to "
                           "`contact.email`; then it is `open` and routed to providers. Nothing is written unless "
                           "the answer is 201.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(j.JobRequestCreate)}}},
            "responses": {
                "201": answer("Submitted; keep `manage_url` secret (it opens the request).", j.JobRequestCreated),
                "400": refusal("The body is not valid JSON or not a JSON object; or a JSON string contains a "
                               "control character (then `errors` names the field)."),
                "404": refusal("On a business's host (job requests are made on the apex)."),
                "413": refusal("The body is larger than 64 KiB."),
                "415": refusal("The body is not sent as `application/json`."),
                "422": refusal("A field is at fault; `errors` names each: `answers.<question id>` for an unknown "
                               "question, a missing required answer or a wrong type; `location.postcode` outside "
                               "every service area (\"No provider covers 10001 yet\"); `category`, `timing.*`, "
                               "`contact.*`.", s.ValidationProblem),
                "429": THROTTLED,
            },
        }},
    }
