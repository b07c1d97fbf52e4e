"""Test data of the job-request wizard: a plumbing business serving New York 10001 and the
plumbing questions of a leaking tap."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.leads.questions_models import JobQuestion
from tests.factories import Business, make_business


def plumber(slug: str = "plumbers", **fields) -> Business:
    """A committed plumbing business that takes job requests in ZIP 10001 (Manhattan)."""
    fields = {"service_postcodes": ["10001"], "category_slug": "plumbing", "accepts_job_requests": True,
              "country": "US", **fields}
    return make_business(slug, timezone="America/New_York", currency="USD", **fields)


def plumbing_questions() -> dict[str, uuid.UUID]:
    """Committed plumbing questions (and one global); returns their ids by a short name."""
    rows = {
        "what": JobQuestion(category_slug="plumbing", position=1, kind="single_choice", label="What needs fixing?",
                            required=True, options=[{"value": "tap", "label": "Leaking tap", "weight": 10},
                                                    {"value": "pipe", "label": "Burst pipe", "weight": 40}]),
        "rooms": JobQuestion(category_slug="plumbing", position=2, kind="multiple_choice", label="Which rooms?",
                             options=[{"value": "kitchen", "label": "Kitchen", "weight": 10},
                                      {"value": "bath", "label": "Bathroom", "weight": 10}]),
        "taps": JobQuestion(category_slug="plumbing", position=3, kind="number", label="How many taps?", weight=20,
                            number_cap=4),
        "water_off": JobQuestion(category_slug="plumbing", position=4, kind="yes_no",
                                 label="Can you turn the water off?", weight=20),
        "photo": JobQuestion(category_slug="plumbing", position=5, kind="photo", label="A photo of it"),
        "notes": JobQuestion(category_slug=None, position=1, kind="long_text", label="Anything else?"),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return {k: q.id for k, q in rows.items()}
