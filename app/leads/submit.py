"""Submitting a job request: the one domain function the wizard and ``POST /api/v1/job-requests``
share, and a guest's confirmation by email.

:func:`submit_request` checks every part of a draft (category, answers, location, timing,
contact), writes the summary, complexity score, tier and credit cost, and then either opens it
(an account: status ``open``, ``submitted_at``, the routing job queued after commit) or leaves it
``unconfirmed`` for a guest, who gets a signed link by email (:func:`confirm_link_token`);
:func:`confirm_request` opens it when the link is followed. Either way the request gets a manage
token, whose link is shown once and mailed. Everything flushes; the caller commits.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.audit.service import AuditActor, record_audit
from app.errors import InputError
from app.extensions import db
from app.jobs.runner import enqueue
from app.leads.access import issue_manage_token, manage_url
from app.leads.models import JobRequest, JobRequestStatus
from app.leads.questions import answers_summary, clean_answers, complexity_of, questions_for
from app.leads.submit_checks import RequestPartInvalid, check_contact, check_timing, locate
from app.notifications.tasks import enqueue_account_email
from app.storage.images import prepare_photo
from app.storage.local import default_storage
from app.tenants.context import platform_scope
from app.tenants.models import MarketplaceCategory
from app.tenants.urls import platform_url
from app.timeutil import utcnow
from app.uow import after_commit

#: The routing job queued (after commit) when a request opens; takes ``str(job_request.id)``.
ROUTE_JOB = "app.leads.routing_tasks.route_request"
#: How long a guest's confirmation link works, in seconds (7 days).
CONFIRM_MAX_AGE = 7 * 24 * 3600
#: Largest photo upload, in bytes.
PHOTO_MAX_BYTES = 10_000_000
_SALT = "job-request-confirm"


class RequestNotConfirmable(InputError):
    """A confirmation link that is broken, expired, or for a request no longer waiting for it."""


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: the request, and its manage link (absolute URL)."""

    job_request: JobRequest
    manage_url: str


def photo_prefix(job_request_id: uuid.UUID) -> str:
    """The private storage prefix of a request's photos (never a public prefix)."""
    return f"job-requests/{job_request_id.hex}/"


def store_request_photo(job_request: JobRequest, data: bytes) -> str:
    """Check ``data`` as an image (by content, at most :data:`PHOTO_MAX_BYTES`), re-encode it
    without metadata and store it privately under :func:`photo_prefix`; returns its key.

    Raises:
        app.storage.images.ImageRejected: not an image, empty or too large.
        app.storage.StorageError: the store failed.
    """
    image = prepare_photo(data, max_bytes=PHOTO_MAX_BYTES)
    key = f"{photo_prefix(job_request.id)}{hashlib.sha256(image.data).hexdigest()[:24]}.{image.extension}"
    default_storage().put(key, image.data, image.content_type)
    return key


def active_categories() -> list[MarketplaceCategory]:
    """The categories a request may be for (active, by position)."""
    with platform_scope("job request: categories"):
        return list(db.session.scalars(sa.select(MarketplaceCategory).where(MarketplaceCategory.active.is_(True))
                                       .order_by(MarketplaceCategory.position, MarketplaceCategory.name)))


def check_category(slug: str | None) -> MarketplaceCategory:
    """The active category ``slug``. Raises :class:`RequestPartInvalid` (field ``category``)."""
    found = next((c for c in active_categories() if c.slug == (slug or "")), None)
    if found is None:
        raise RequestPartInvalid(_("Choose what kind of job it is."), "category")
    return found


def _title(category: MarketplaceCategory, summary: list[dict[str, str]]) -> str:
    return f"{category.name} job"[:160] if not summary else f"{category.name}: {summary[0]['text']}"[:160]


def submit_request(job_request: JobRequest, *, actor: AuditActor, user_id: uuid.UUID | None = None) -> Submitted:
    """Check and submit the draft ``job_request`` (all its parts already set on it; added to the
    session here if new).

    With ``user_id`` (a signed-in customer; the contact is theirs) the request opens at once
    and the routing job is queued after commit; a guest's waits ``unconfirmed`` and a
    confirmation link is mailed to them after commit. Audit entry ``job_request.submitted``.

    Raises:
        RequestPartInvalid: the category, location, timing or contact is invalid (``field``).
        app.leads.questions.AnswersInvalid: answers are unknown, missing or of the wrong type.
        app.leads.submit_checks.OutsideServiceArea: no provider covers the place.
    """
    category = check_category(job_request.category_slug)
    with platform_scope("job request: submitting"):
        db.session.add(job_request)
        db.session.flush()  # a new request gets its id and defaults
    if job_request.status != JobRequestStatus.DRAFT:
        raise RequestPartInvalid(_("This request was already sent."), "request")
    questions = questions_for(category.slug)
    answers = clean_answers(questions, job_request.answers or {}, photo_prefix=photo_prefix(job_request.id))
    place = locate(job_request.postcode, job_request.latitude, job_request.longitude)
    check_timing(job_request.timing_kind, job_request.timing_start, job_request.timing_end)
    name, email, phone = check_contact(job_request.contact_name, job_request.contact_email,
                                       job_request.contact_phone, phone_required=user_id is None)
    complexity = complexity_of(category.slug, questions, answers)
    summary = answers_summary(questions, answers)
    if (job_request.details or "").strip():
        summary.append({"label": "Details", "text": job_request.details.strip()})
    job_request.answers = answers
    job_request.summary = summary
    job_request.title = _title(category, summary)
    job_request.complexity_score, job_request.complexity_tier = complexity.score, complexity.tier
    job_request.credits_cost = complexity.credits
    job_request.postcode, job_request.city, job_request.country = place.postcode, place.city, place.country
    if job_request.latitude is None and place.lat is not None:
        job_request.latitude, job_request.longitude = place.lat, place.lon
    job_request.contact_name, job_request.contact_email, job_request.contact_phone = name, email, phone
    job_request.user_id = user_id
    job_request.photos = sorted({k for v in answers.values() if isinstance(v, list) for k in v
                                 if isinstance(k, str) and k.startswith(photo_prefix(job_request.id))}
                                | {k for k in job_request.photos or [] if k.startswith(photo_prefix(job_request.id))})
    job_request.updated_at = utcnow()
    token = issue_manage_token(job_request)
    if user_id is not None:
        _open(job_request, actor)
    else:
        job_request.status = JobRequestStatus.UNCONFIRMED
        link = platform_url(f"/requests/confirm/{confirm_link_token(job_request.id)}")
        after_commit(lambda: _mail(email, _("Confirm your job request"), "wizard_email_confirm", job_request, link))
    with platform_scope("job request: submitted"):
        db.session.flush()
    record_audit(actor, "job_request.submitted", "job_request", job_request.id,
                 after={"status": job_request.status, "category": category.slug, "tier": complexity.tier,
                        "score": complexity.score, "credits_cost": complexity.credits, "guest": user_id is None})
    url = manage_url(job_request.id, token)
    if user_id is not None:
        after_commit(lambda: _mail(email, _("Your job request was sent"), "wizard_email_sent", job_request, url))
    return Submitted(job_request, url)


def _open(job_request: JobRequest, actor: AuditActor) -> None:
    job_request.status = JobRequestStatus.OPEN
    job_request.submitted_at = job_request.updated_at = utcnow()
    request_id = str(job_request.id)
    after_commit(lambda: enqueue(ROUTE_JOB, request_id))


def _mail(to: str, subject: str, template: str, job_request: JobRequest, link: str) -> None:
    facts = {"title": job_request.title, "postcode": job_request.postcode, "name": job_request.contact_name}
    text = render_template(f"requests/{template}.txt", link=link, **facts)
    html = render_template(f"requests/{template}.html", link=link, **facts)
    enqueue_account_email(to, subject, text, html)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def confirm_link_token(job_request_id: uuid.UUID) -> str:
    """The signed, expiring token of a guest's confirmation link for ``job_request_id``."""
    return _serializer().dumps(str(job_request_id))


def confirm_request(token: str, *, actor: AuditActor) -> Submitted:
    """Open the guest's request named by the signed ``token`` (see :func:`confirm_link_token`):
    status ``open``, ``submitted_at``, a new manage token (mailed after commit), the routing job
    queued after commit, audit entry ``job_request.confirmed``.

    Raises:
        RequestNotConfirmable: a bad or expired link, or a request not ``unconfirmed`` (already
            confirmed, cancelled, …).
    """
    try:
        raw = _serializer().loads(token, max_age=CONFIRM_MAX_AGE)
        request_id = uuid.UUID(str(raw))
    except SignatureExpired:
        raise RequestNotConfirmable(_("This confirmation link has expired. Please send your request again.")) from None
    except (BadSignature, ValueError):
        raise RequestNotConfirmable(_("This confirmation link is not valid.")) from None
    with platform_scope("job request: guest confirmation"):
        job_request = db.session.scalar(sa.select(JobRequest).where(JobRequest.id == request_id).with_for_update())
    if job_request is None or job_request.status != JobRequestStatus.UNCONFIRMED:
        raise RequestNotConfirmable(_("This request is already confirmed. Use the manage link we emailed you."))
    manage_token = issue_manage_token(job_request)
    _open(job_request, actor)
    with platform_scope("job request: confirmed"):
        db.session.flush()
    record_audit(actor, "job_request.confirmed", "job_request", job_request.id, after={"status": job_request.status})
    url = manage_url(job_request.id, manage_token)
    email = job_request.contact_email
    after_commit(lambda: _mail(email, _("Your job request was sent"), "wizard_email_sent", job_request, url))
    return Submitted(job_request, url)

