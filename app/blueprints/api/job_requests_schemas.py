"""Pydantic models of ``POST /api/v1/job-requests`` (apex): the request body and the 201 answer.

Unknown fields are refused; lengths match the ``job_request`` columns. ``answers`` maps a
question id (from the category's questions) to its value: a string (text, one option's value,
a date ``YYYY-MM-DD``), a list of option values (multiple choice), a number, or a boolean (yes/no).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class JobRequestLocation(BaseModel):
    """Where the job is: a ``postcode`` inside some provider's service area, or a point
    (``lat``/``lon``, WGS 84 degrees), or both."""

    model_config = ConfigDict(extra="forbid")

    postcode: str | None = Field(default=None, max_length=20, examples=["10001"])
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class JobRequestTiming(BaseModel):
    """When: ``flexible``, ``urgent``, or a ``range`` from ``start`` to ``end`` (local dates)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["flexible", "range", "urgent"] = "flexible"
    start: date | None = None
    end: date | None = None


class JobRequestContact(BaseModel):
    """Who to contact: the customer's ``name``, ``email`` (a confirmation link is sent there) and
    ``phone``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(min_length=1, max_length=32)


class JobRequestCreate(BaseModel):
    """A job request: the marketplace ``category`` (slug), ``answers`` to its questions
    (question id -> value), ``location``, ``timing`` and ``contact``."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=40, examples=["plumbing"])
    answers: dict[str, Any] = Field(default_factory=dict)
    location: JobRequestLocation
    timing: JobRequestTiming = Field(default_factory=JobRequestTiming)
    contact: JobRequestContact


class JobRequestCreated(BaseModel):
    """The submitted request: ``status`` is ``unconfirmed`` until the customer follows the link
    emailed to them (then ``open``); ``complexity_tier`` decides what a claim costs providers;
    ``manage_url`` opens the request (keep it secret)."""

    id: uuid.UUID
    status: str
    complexity_tier: int
    manage_url: str
