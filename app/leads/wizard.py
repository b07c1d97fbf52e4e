"""The request wizard's drafts: each step's answers saved on a ``draft`` job request.

The wizard (``/requests/new/<step>``, :mod:`app.blueprints.requests`) keeps the draft's id in
the visitor's session; each step checks its part and saves it here, so going back keeps answers
and a refresh keeps state. Nothing is routed or mailed until :func:`app.leads.submit.submit_request`.
All functions flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.formatting import format_number
from app.leads.models import JobRequest, JobRequestStatus
from app.leads.questions import MAX_PHOTOS, clean_answers, questions_for
from app.leads.submit import check_category, photo_prefix, store_request_photo
from app.leads.submit_checks import RequestPartInvalid, check_timing, locate
from app.storage.images import ImageRejected
from app.tenants.context import platform_scope
from app.timeutil import utcnow

#: The wizard's steps, in order.
STEPS = ("category", "questions", "location", "timing", "contact")
#: Longest free description, in characters.
DETAILS_MAX = 4000


def get_draft(job_request_id: uuid.UUID | None) -> JobRequest | None:
    """The draft ``job_request_id`` if it is still a draft, else ``None``."""
    if job_request_id is None:
        return None
    with platform_scope("job request: the wizard's draft"):
        return db.session.scalar(sa.select(JobRequest).where(
            JobRequest.id == job_request_id, JobRequest.status == JobRequestStatus.DRAFT))


def _flush(job_request: JobRequest) -> JobRequest:
    job_request.updated_at = utcnow()
    with platform_scope("job request: saving the wizard's draft"):
        db.session.add(job_request)
        db.session.flush()
    return job_request


def first_open_step(job_request: JobRequest | None) -> str:
    """The first step the draft has not been through (``category`` with no draft)."""
    if job_request is None or not job_request.category_slug:
        return "category"
    if not job_request.postcode and job_request.latitude is None:
        return "questions" if not job_request.answers and not job_request.details else "location"
    return "timing" if not job_request.contact_email else "contact"


def save_category(job_request: JobRequest | None, slug: str, *, locale: str = "en") -> JobRequest:
    """Step 1: the category (a new draft when ``job_request`` is ``None``). Changing it drops the
    answers to the old category's questions.

    Raises:
        RequestPartInvalid: not an active category (field ``category``).
    """
    category = check_category(slug)
    if job_request is None:
        job_request = JobRequest(status=JobRequestStatus.DRAFT, locale=locale[:12], answers={})
    if job_request.category_slug != category.slug:
        kept = {str(q.id) for q in questions_for(category.slug)}
        job_request.answers = {k: v for k, v in (job_request.answers or {}).items() if k in kept}
    job_request.category_slug = category.slug
    return _flush(job_request)


def save_answers(job_request: JobRequest, answers: Mapping[str, Any], details: str,
                 new_photos: list[bytes]) -> JobRequest:
    """Step 2: the answers to the category's questions (see :func:`app.leads.questions.clean_answer`
    for the shapes; a photo question's value is its kept keys plus the key of each upload in
    ``answers[<id>]`` given as bytes), the free ``details`` and extra photos (``new_photos``).

    Photos are stored as they are checked. Raises :class:`app.leads.questions.AnswersInvalid`
    (fields ``answers.<id>``), :class:`RequestPartInvalid` (``details``, ``photos``) or
    :class:`app.storage.images.ImageRejected` (a file is not an image; its ``field`` is set).
    """
    if job_request.id is None:
        _flush(job_request)
    details = (details or "").strip()
    if len(details) > DETAILS_MAX:
        raise RequestPartInvalid(_("Use at most %(num)s characters.", num=format_number(DETAILS_MAX)), "details")
    photos = list(job_request.photos or [])
    if len(photos) + len(new_photos) > MAX_PHOTOS:
        raise RequestPartInvalid(_("Add at most %(num)d photos.", num=MAX_PHOTOS), "photos")
    questions = questions_for(job_request.category_slug)
    staged: dict[str, Any] = {}
    for qid, value in answers.items():
        if isinstance(value, list) and any(isinstance(v, bytes) for v in value):
            keys = [v for v in value if isinstance(v, str)]
            for data in (v for v in value if isinstance(v, bytes)):
                keys.append(_store(job_request, data, f"answers.{qid}"))
            staged[qid] = keys
        else:
            staged[qid] = value
    cleaned = clean_answers(questions, staged, photo_prefix=photo_prefix(job_request.id))
    for data in new_photos:
        photos.append(_store(job_request, data, "photos"))
    job_request.answers = cleaned
    job_request.details = details
    job_request.photos = photos
    return _flush(job_request)


def _store(job_request: JobRequest, data: bytes, field: str) -> str:
    try:
        return store_request_photo(job_request, data)
    except ImageRejected as exc:
        exc.field = field
        raise


def remove_photo(job_request: JobRequest, key: str) -> JobRequest:
    """Drop photo ``key`` from the draft's extra photos and photo answers (the file stays until
    the storage's clean-up)."""
    job_request.photos = [k for k in job_request.photos or [] if k != key]
    job_request.answers = {q: ([k for k in v if k != key] if isinstance(v, list) else v)
                           for q, v in (job_request.answers or {}).items()}
    return _flush(job_request)


def save_location(job_request: JobRequest, postcode: str, lat: float | None, lon: float | None) -> JobRequest:
    """Step 3: the postcode and/or map pin, which some opted-in provider must cover.

    Raises:
        RequestPartInvalid: missing or malformed (fields ``location.postcode``, ``location.lat``).
        app.leads.submit_checks.OutsideServiceArea: nobody covers it.
    """
    place = locate(postcode, lat, lon)
    job_request.postcode, job_request.city, job_request.country = place.postcode, place.city, place.country
    job_request.latitude, job_request.longitude = lat, lon
    return _flush(job_request)


def save_timing(job_request: JobRequest, kind: str, start: date | None, end: date | None) -> JobRequest:
    """Step 4: when (``flexible``, ``urgent``, or a ``range`` from ``start`` to ``end``).

    Raises:
        RequestPartInvalid: see :func:`app.leads.submit_checks.check_timing`.
    """
    check_timing(kind, start, end)
    job_request.timing_kind = kind
    job_request.timing_start, job_request.timing_end = (start, end) if kind == "range" else (None, None)
    return _flush(job_request)


def save_contact(job_request: JobRequest, name: str, email: str, phone: str) -> JobRequest:
    """Step 5 (before submitting): who to contact, saved as typed (checked on submission)."""
    job_request.contact_name = (name or "")[:120]
    job_request.contact_email = (email or "")[:254]
    job_request.contact_phone = (phone or "")[:32]
    return _flush(job_request)
