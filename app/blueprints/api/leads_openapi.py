"""The provider lead endpoints' part of the OpenAPI document (:func:`app.blueprints.api.openapi.build_spec`
adds :func:`lead_paths` and the models of :data:`LEAD_REQUESTS` / :data:`LEAD_RESPONSES`)."""

from __future__ import annotations

from typing import Any

from app.blueprints.api import leads_schemas as ls
from app.blueprints.api import schemas as s
from app.blueprints.api.review_openapi import THROTTLED, answer, ref, refusal

#: Request and response models of the lead endpoints (component schemas).
LEAD_REQUESTS = (ls.QuoteIn,)
LEAD_RESPONSES = (ls.LeadList, ls.LeadOut, ls.ClaimProblem)

STAFF_ONLY = [{"bearerAuth": []}]
UNAUTHORIZED = refusal("No token, or not a staff API token of this business.",
                       headers={"WWW-Authenticate": {"description": "`Bearer realm=\"Plaza API\"`.",
                                                     "schema": {"type": "string"}}})
LEAD_ID = {"name": "lead_id", "in": "path", "required": True, "description": "The lead's id.",
           "schema": {"type": "string", "format": "uuid"}}
BAD_QUERY = refusal("A query parameter or header contains a control character; `errors` names it.",
                    s.ValidationProblem)
NOT_FOUND = refusal("No lead with this id here (also: malformed ids and another business's leads).")


def lead_paths() -> dict[str, Any]:
    """The path items of ``GET /leads``, ``POST /leads/{lead_id}/claim`` and ``POST /leads/{lead_id}/quote``."""
    return {
        "/leads": {"get": {
            "operationId": "listLeads", "summary": "The business's leads", "tags": ["leads"],
            "description": "Job requests Plaza routed to this business, newest offer first (at most 200), each with "
                           "why it came (`score_parts`). The customer's contact appears once the lead is claimed.",
            "parameters": [
                {"name": "status", "in": "query", "required": False, "description": "Only leads in this status.",
                 "schema": {"type": "string", "enum": ["offered", "claimed", "quoted", "won", "lost", "refunded",
                                                       "expired", "declined"]}},
                {"name": "category", "in": "query", "required": False,
                 "description": "Only leads of this marketplace category (slug).", "schema": {"type": "string"}}],
            "security": STAFF_ONLY,
            "responses": {"200": answer("The leads.", ls.LeadList), "400": BAD_QUERY, "401": UNAUTHORIZED,
                          "422": refusal("An unknown `status` or parameter.", s.ValidationProblem)},
        }},
        "/leads/{lead_id}/claim": {"post": {
            "operationId": "claimLead", "summary": "Claim a lead", "tags": ["leads"],
            "description": "Spend the lead's credits to claim it, as the staff member who created the token: the "
                           "answer holds the customer's contact and `contact_due_at`. A retry by the same staff member "
                           "answers 200 again and debits nothing. No body.",
            "parameters": [LEAD_ID], "security": STAFF_ONLY,
            "responses": {
                "200": answer("Claimed; the lead with the contact.", ls.LeadOut),
                "400": BAD_QUERY, "401": UNAUTHORIZED, "404": NOT_FOUND,
                "409": refusal("Refused; `type` says which: `…/lead-not-routed` (not offered to you any more: "
                               "expired or withdrawn), `…/lead-already-claimed` (a colleague claimed it), "
                               "`…/insufficient-credits` (with `needed` and `balance`).", ls.ClaimProblem),
                "429": THROTTLED,
            },
        }},
        "/leads/{lead_id}/quote": {"post": {
            "operationId": "quoteLead", "summary": "Quote a claimed lead", "tags": ["leads"],
            "description": "Send (or replace) the price range, in minor units of the business's currency, the "
                           "estimated duration in minutes and a message. The customer is emailed and sees it in the "
                           "job's chat.",
            "parameters": [LEAD_ID], "security": STAFF_ONLY,
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(ls.QuoteIn)}}},
            "responses": {
                "200": answer("Quoted; the lead with its quote.", ls.LeadOut),
                "400": refusal("The body is empty, not valid JSON, or not a JSON object."),
                "401": UNAUTHORIZED, "404": NOT_FOUND,
                "409": refusal("The lead is not claimed by this business, or is closed (won, lost, refunded)."),
                "413": refusal("The body is larger than 16 KiB."),
                "415": refusal("The body is not sent as `application/json`."),
                "422": refusal("Invalid fields (`errors` names each: `min`, `max`, `currency`, `duration_minutes`, "
                               "`message`).", s.ValidationProblem),
                "429": THROTTLED,
            },
        }},
    }
