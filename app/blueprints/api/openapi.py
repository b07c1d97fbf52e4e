"""The OpenAPI 3.1 document of the JSON API v1, built from the pydantic models in
:mod:`app.blueprints.api.schemas` so the document and the validation cannot drift apart."""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic.json_schema import models_json_schema

from app.blueprints.api import marketplace_schemas as ms
from app.blueprints.api import schemas as s
from app.blueprints.api.job_request_read_openapi import JOB_REQUEST_READ_RESPONSES, job_request_read_paths
from app.blueprints.api.job_requests_openapi import JOB_REQUEST_REQUESTS, JOB_REQUEST_RESPONSES, job_request_paths
from app.blueprints.api.leads_openapi import LEAD_REQUESTS, LEAD_RESPONSES, lead_paths
from app.blueprints.api.review_openapi import REVIEW_REQUESTS, REVIEW_RESPONSES, review_paths
from app.tenants.urls import platform_url

REF = "#/components/schemas/{model}"
PROBLEM = "application/problem+json"

_REQUESTS = (s.BookingCreate, s.CancelRequest, s.CustomerIn, *REVIEW_REQUESTS, *LEAD_REQUESTS, *JOB_REQUEST_REQUESTS)
_RESPONSES = (s.ServiceList, s.StaffList, s.Availability, s.BookingOut, s.Problem, s.ValidationProblem,
              s.ConflictProblem, *REVIEW_RESPONSES, ms.CategoryList, ms.SearchOut, *LEAD_RESPONSES,
              *JOB_REQUEST_RESPONSES, *JOB_REQUEST_READ_RESPONSES)

DESCRIPTION = """\
Book a business on Plaza from your own code. The API lives on the business's host
(`https://<slug>.<platform domain>/api/v1`); the marketplace endpoints (`/marketplace/…`: find
businesses) live on the platform's apex host instead (their `servers` say so).

* Instants are RFC 3339 strings with a UTC offset (`2026-12-01T09:00:00+01:00`).
* Availability dates (`start`, `end`) are calendar days in the **business's** time zone;
  the `tz` parameter only changes the zone slot times are written in.
* Money is an integer amount in minor units plus an ISO 4217 currency code.
* Durations are whole minutes.
* Every error is `application/problem+json` (RFC 9457) with a precise `detail`;
  a 422 also lists each field at fault in `errors` (`{"field": "customer.email", "message": ...}`).
* Dates and instants are accepted for years 2000 to 2100 only (the `pattern` of each says so);
  anything else is a 422 naming the field.
* Control characters (C0 except tab, line feed and carriage return; DEL; C1) are refused in every
  query parameter and JSON string with a 400 whose `errors` names the field; single-line fields
  (names, phone) refuse line breaks too, and a person's name cannot contain `<`, `>` or `@` (422).
* Too many requests answer 429 with `Retry-After`.
* An id of another business answers exactly like an id that does not exist (404).
* Reading and cancelling a booking needs `Authorization: Bearer <token>` with either a staff
  API token of this business (created in the dashboard) or the booking's manage token, which
  is the last path segment of `manage_url`. The manage token may also be given as the `token`
  query parameter.
"""


@functools.cache
def _components() -> dict[str, Any]:
    """Component schemas of every model, with ``$ref``s pointing into ``#/components/schemas``."""
    pairs = [(m, "validation") for m in _REQUESTS] + [(m, "serialization") for m in _RESPONSES]
    _, top = models_json_schema(pairs, ref_template=REF)
    return top.get("$defs", {})


def _ref(model: type) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _problem(description: str, model: type = s.Problem, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {PROBLEM: {"schema": _ref(model)}}}
    if headers:
        out["headers"] = headers
    return out


def _ok(description: str, model: type, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": _ref(model)}}}
    if headers:
        out["headers"] = headers
    return out


def _query_parameters() -> list[dict[str, Any]]:
    schema = s.AvailabilityQuery.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = copy.deepcopy(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        if "anyOf" in prop:  # optional: drop the null branch, absence means null
            prop = next(p for p in prop["anyOf"] if p.get("type") != "null")
            prop.pop("default", None)
        params.append({"name": name, "in": "query", "required": name in required,
                       "description": description, "schema": prop})
    return params


_NOT_FOUND = _problem("No such route here (also: every route on the platform's apex host).")
_UNAUTHORIZED = _problem(
    "No token, or one that is not valid for this business.",
    headers={"WWW-Authenticate": {"description": "`Bearer realm=\"Plaza API\"`, with `error` when a token was sent.",
                                  "schema": {"type": "string"}}})
_BOOKING_NOT_FOUND = _problem("No booking with this id here (also: malformed ids, another business's "
                              "ids, and a manage token used for another booking).")
_CONTROL = "A query parameter or JSON string contains a control character; `errors` names the field."
_BAD_INPUT = {"400": _problem(_CONTROL, s.ValidationProblem)}
_THROTTLED = {"429": _problem(
    "Too many requests from this client; try again after `Retry-After` seconds.",
    headers={"Retry-After": {"description": "Seconds to wait before trying again.",
                             "schema": {"type": "integer", "minimum": 0}}})}
_BAD_BODY = {
    "400": _problem("The body is empty, not UTF-8, not valid JSON, or not a JSON object; or a query parameter "
                    "or JSON string contains a control character (then `errors` names the field)."),
    "413": _problem("The body is larger than 64 KiB."),
    "415": _problem("The body is not sent as `application/json`."),
}
_ID_PARAM = {"name": "booking_id", "in": "path", "required": True, "description": "The booking's id.",
             "schema": {"type": "string", "format": "uuid"}}
_SECURED = [{"bearerAuth": []}, {"manageToken": []}]


def _marketplace_parameters() -> list[dict[str, Any]]:
    def param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    return [
        param("q", {"type": "string", "maxLength": 100}, "Free text: names, categories, services, descriptions, "
              "cities; misspellings are matched by trigram similarity."),
        param("category", {"type": "string"}, "A category slug from `/marketplace/categories`."),
        param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude of the centre (with `lon`)."),
        param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude of the centre (with `lat`)."),
        param("near", {"type": "string", "maxLength": 100}, "A city or postcode as the centre (when `lat`/`lon` "
              "are not given); a place that cannot be resolved is a 422 saying so."),
        param("radius_km", {"type": "number", "minimum": 1, "maximum": 200, "default": 25},
              "Radius around the centre in km."),
        param("available", {"type": "string", "enum": ["any", "today", "week"], "default": "any"},
              "Only businesses with a free slot today (the business's day) or in the next 7 days."),
        param("min_rating", {"type": "number", "minimum": 1, "maximum": 5},
              "Only businesses with reviews averaging at least this many stars."),
        param("price_min", {"type": "integer", "minimum": 0}, "Lowest \"from\" price, minor units."),
        param("price_max", {"type": "integer", "minimum": 0}, "Highest \"from\" price, minor units."),
        param("open_now", {"type": "boolean"}, "Only businesses open now (their working hours)."),
        param("sort", {"type": "string", "enum": ["relevance", "distance", "rating", "price"],
                       "default": "relevance"}, "Order of the organic results."),
        param("page", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}, "Page number."),
        param("per_page", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}, "Organic results per page."),
    ]


def _marketplace_paths() -> dict[str, Any]:
    servers = [{"url": platform_url("/api/v1"), "description": "The platform's apex host."}]
    not_here = _problem("On a business's host (the marketplace is on the apex).")
    return {
        "/marketplace/categories": {"get": {
            "operationId": "listMarketplaceCategories", "summary": "Marketplace categories", "tags": ["marketplace"],
            "servers": servers,
            "description": "The platform's active categories in display order, with how many listed businesses each has.",
            "responses": {"200": _ok("The categories.", ms.CategoryList), "404": not_here, **_THROTTLED},
        }},
        "/marketplace/search": {"get": {
            "operationId": "searchMarketplace", "summary": "Find businesses", "tags": ["marketplace"],
            "servers": servers,
            "description": "Businesses matching the text and filters within the radius. Organic results are ordered "
                           "by relevance alone (text match, distance, Bayesian rating, a free slot in the window); "
                           "equally relevant businesses rotate by the hour. At most two results per page are "
                           "`featured`: paying plans' businesses that match the same query, radius and filters, in "
                           "rotation, every paying tier with a match represented; they come first and are not "
                           "repeated among that page's organic results.",
            "parameters": _marketplace_parameters(),
            "responses": {
                "200": _ok("A page of results.", ms.SearchOut),
                **_BAD_INPUT,
                "404": not_here,
                "422": _problem("A bad value (`errors` names the field), or a `near` that cannot be resolved.",
                                s.ValidationProblem),
                **_THROTTLED,
            },
        }},
    }


def build_spec(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict) with ``server_url`` as the only server."""
    paths: dict[str, Any] = {
        "/services": {"get": {
            "operationId": "listServices", "summary": "Active services", "tags": ["catalogue"],
            "description": "Active services with duration (minutes), price (minor units) and the active "
                           "staff who perform each.",
            "responses": {"200": _ok("The services.", s.ServiceList), "404": _NOT_FOUND, **_THROTTLED},
        }},
        "/staff": {"get": {
            "operationId": "listStaff", "summary": "Active staff", "tags": ["catalogue"],
            "description": "Active staff members with the ids of the active services each performs.",
            "responses": {"200": _ok("The staff.", s.StaffList), "404": _NOT_FOUND, **_THROTTLED},
        }},
        "/availability": {"get": {
            "operationId": "getAvailability", "summary": "Bookable slots", "tags": ["booking"],
            "description": "Bookable starts of a service between two dates (inclusive, at most 62 days). "
                           "`start` and `end` are calendar days in the business's time zone; `tz` only "
                           "changes the zone the times are written in (default the business's zone, "
                           "which the response names in `timezone`). Without `staff_id` (\"any staff\") the "
                           "performers are merged: one slot per start time, naming the staff member who "
                           "would take it, ordered by start. Lead time and "
                           "booking horizon are already applied.",
            "parameters": _query_parameters(),
            "responses": {
                "200": _ok("The slots.", s.Availability),
                **_BAD_INPUT,
                "404": _NOT_FOUND,
                "422": _problem("Invalid, missing or unknown parameters (unknown or inactive service, staff "
                                "member who does not perform it, malformed dates, reversed or too long range, "
                                "unknown time zone, a date outside 2000–2100).", s.ValidationProblem),
                **_THROTTLED,
            },
        }},
        "/bookings": {"post": {
            "operationId": "createBooking", "summary": "Book a slot", "tags": ["booking"],
            "description": "Books `start` (a slot from `/availability`) for the customer. Without `staff_id` "
                           "any free performer is chosen. The booking is `pending` when the business "
                           "confirms bookings by hand, else `confirmed`. Nothing is written unless the "
                           "answer is 201.",
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref(s.BookingCreate)}}},
            "responses": {
                "201": _ok("Booked. Times are in the customer's zone (`timezone`, default the business's).",
                           s.BookingOut, headers={"Location": {"description": "URL of `GET /bookings/{id}`.",
                                                               "schema": {"type": "string", "format": "uri"}}}),
                **_BAD_BODY,
                "404": _NOT_FOUND,
                "409": _problem("The time cannot be booked: in the past, inside the lead time, beyond the "
                                "horizon, outside working hours, or taken. `alternatives` lists the next "
                                "free starts.", s.ConflictProblem),
                "422": _problem("Invalid, missing or unknown fields, or an unknown service or staff member.",
                                s.ValidationProblem),
                **_THROTTLED,
            },
        }},
        "/bookings/{booking_id}": {"get": {
            "operationId": "getBooking", "summary": "A booking", "tags": ["booking"],
            "description": "Readable with a staff API token of this business or the booking's own manage token.",
            "parameters": [_ID_PARAM],
            "security": _SECURED,
            "responses": {
                "200": _ok("The booking; times in the customer's zone.", s.BookingOut),
                **_BAD_INPUT,
                "401": _UNAUTHORIZED,
                "404": _BOOKING_NOT_FOUND,
                **_THROTTLED,
            },
        }},
        "/bookings/{booking_id}/cancel": {"post": {
            "operationId": "cancelBooking", "summary": "Cancel a booking", "tags": ["booking"],
            "description": "With a staff API token the business cancels; with the manage token the customer "
                           "cancels, which is allowed only until the business's cut-off before the start. "
                           "The body is optional.",
            "parameters": [_ID_PARAM],
            "security": _SECURED,
            "requestBody": {"required": False,
                            "content": {"application/json": {"schema": _ref(s.CancelRequest)}}},
            "responses": {
                "200": _ok("Cancelled.", s.BookingOut),
                **_BAD_BODY,
                "401": _UNAUTHORIZED,
                "404": _BOOKING_NOT_FOUND,
                "409": _problem("The booking is no longer active, or the customer's cut-off has passed.",
                                s.ConflictProblem),
                "422": _problem("Invalid or unknown fields.", s.ValidationProblem),
                **_THROTTLED,
            },
        }},
        **_marketplace_paths(),
        "/openapi.json": {"get": {
            "operationId": "getOpenApi", "summary": "This document", "tags": ["meta"],
            "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "404": _NOT_FOUND, **_THROTTLED},
        }},
    }
    paths.update(review_paths())
    paths.update(lead_paths())
    paths.update(job_request_paths())
    paths.update(job_request_read_paths())
    paths["/bookings"]["post"]["responses"]["201"]["links"] = {
        "GetBooking": {"operationId": "getBooking", "parameters": {"booking_id": "$response.body#/id"},
                       "description": "Read the new booking (with a staff token or its manage token)."},
        "CancelBooking": {"operationId": "cancelBooking", "parameters": {"booking_id": "$response.body#/id"},
                          "description": "Cancel the new booking."},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Plaza booking API", "version": "1.0.0", "description": DESCRIPTION},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": server_url}],
        "tags": [{"name": "catalogue"}, {"name": "booking"}, {"name": "reviews"}, {"name": "leads"},
                 {"name": "marketplace"}, {"name": "job-requests"}, {"name": "meta"}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(_components()),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A staff API token of this business, or a booking's manage token."},
                "manageToken": {"type": "apiKey", "in": "query", "name": "token",
                                "description": "A booking's manage token (the last path segment of `manage_url`)."},
            },
        },
    }
