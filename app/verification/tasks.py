"""Verification's jobs: the owner's email about a decision, and the daily expiry sweep.

* :func:`jobs_for_event` (an outbox router, :data:`app.outbox.relay.ROUTERS`): a decision
  (``verification.decided``) becomes :func:`send_decision_email`.
* :func:`periodic_expiry_sweep` (:data:`app.jobs.periodic.PERIODIC_JOBS`, every sweep interval;
  safe to run twice): approved documents whose expiry is :data:`REMINDER_DAYS` days away or
  closer get one reminder per threshold (dedup key per document and threshold); lapsed ones
  become ``expired``; every listing's badge is recomputed.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.delivery.mailer import account_email
from app.delivery.pipeline import deliver
from app.extensions import db
from app.formatting import reader_locale
from app.i18n import DEFAULT_LANGUAGE, supported_locale
from app.identity.models import User
from app.jobs.runner import JobSpec, run_in_tenant, run_on_platform
from app.notifications.language import email_locale, speaking
from app.tenants.context import platform_scope, require_tenant_id, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.verification.models import DocumentStatus, VerificationDocument
from app.verification.service import DECIDED_EVENT, owner_emails, sync_verified_flags

TASKS = "app.verification.tasks"
#: Days before expiry on which the owners are reminded, largest first.
REMINDER_DAYS: tuple[int, ...] = (30, 7)
#: Document kinds as a sentence names them.
KIND_NAMES = {"licence": _l("licence"), "insurance": _l("insurance"), "certification": _l("certification")}


def reader_of(email: str) -> str:
    """The language the account with ``email`` reads Plaza in (its saved choice), else English."""
    return supported_locale(db.session.scalar(sa.select(User.locale).where(User.email == email))) or DEFAULT_LANGUAGE


def _day(day: date) -> str:
    return format_skeleton("yMMMMd", day, locale=reader_locale())


def decision_mail(doc: VerificationDocument, business: str, approved: bool) -> tuple[str, str]:
    """The decision email's subject and text, in the locale in force."""
    kind = str(KIND_NAMES.get(doc.kind, doc.kind))
    if approved:
        return (_("%(business)s: your document was approved", business=business),
                _("Your %(kind)s \"%(title)s\" was approved: %(business)s shows the verified badge until %(day)s.",
                  kind=kind, title=doc.title, business=business, day=_day(doc.expires_on)) + "\n")
    return (_("%(business)s: your document was not approved", business=business),
            _("Your %(kind)s \"%(title)s\" was not approved.", kind=kind, title=doc.title) + "\n"
            + _("Reason: %(reason)s", reason=doc.reason) + "\n"
            + _("You can upload a new document in your dashboard under Verification.") + "\n")


def reminder_mail(doc: VerificationDocument, business: str, days_left: int) -> tuple[str, str]:
    """The expiry reminder's subject and text, in the locale in force."""
    kind = str(KIND_NAMES.get(doc.kind, doc.kind))
    return (ngettext("%(business)s: your %(kind)s expires in %(num)d day",
                     "%(business)s: your %(kind)s expires in %(num)d days", days_left, business=business, kind=kind),
            _("Your %(kind)s \"%(title)s\" expires on %(day)s. Upload a renewed document in your dashboard under "
              "Verification to keep the verified badge.", kind=kind, title=doc.title, day=_day(doc.expires_on)) + "\n")


def jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router: the jobs a verification event causes (the decision email)."""
    if kind == DECIDED_EVENT and payload.get("document_id"):
        return [JobSpec(f"{TASKS}.send_decision_email", (tenant_id, str(payload["document_id"])))]
    return []


def send_decision_email(tenant_id: str, document_id: str) -> str:
    """Job: email the owners of business ``tenant_id`` the admin's decision on ``document_id`` once (dedup key
    per document and owner); returns ``sent``, ``gone`` (no such document) or ``skipped``.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_decision_email, document_id)


def _send_decision_email(document_id: str) -> str:
    emails = owner_emails(require_tenant_id())
    row = db.session.execute(sa.select(VerificationDocument, Tenant.name).join(
        Tenant, Tenant.id == VerificationDocument.tenant_id).where(
        VerificationDocument.id == uuid.UUID(document_id))).first()
    if row is None:
        return "gone"
    doc, business = row
    if doc.status not in (DocumentStatus.APPROVED.value, DocumentStatus.REJECTED.value):
        return "skipped"
    approved = doc.status == DocumentStatus.APPROVED.value
    for email in emails:
        with speaking(email_locale(email, doc.tenant_id)):  # their choice, else the business's language
            subject, text = decision_mail(doc, business, approved)
        deliver(f"verification-decision:{doc.id}:{email}", account_email(email, subject, text))
    return "sent"


def periodic_expiry_sweep() -> int:
    """Periodic job: send due expiry reminders, expire lapsed documents, resync the badges;
    returns how many reminders were sent."""
    return run_on_platform(expiry_sweep)


def expiry_sweep(today: date | None = None) -> int:
    """Remind, expire and resync as of UTC ``today`` (see the module docstring); returns the
    reminders sent. Flushes; the job's unit of work commits."""
    today = today or utcnow().date()
    sent = 0
    with platform_scope("verification: expiry sweep"):
        lapsed = list(db.session.scalars(sa.select(VerificationDocument).where(
            VerificationDocument.status == DocumentStatus.APPROVED.value, VerificationDocument.expires_on < today)))
        for doc in lapsed:
            doc.status = DocumentStatus.EXPIRED.value
        due = db.session.execute(sa.select(VerificationDocument, Tenant.name).join(
            Tenant, Tenant.id == VerificationDocument.tenant_id).where(
            VerificationDocument.status == DocumentStatus.APPROVED.value,
            VerificationDocument.expires_on <= today + timedelta(days=REMINDER_DAYS[0]))).all()
        db.session.flush()
    for doc, business in due:
        days_left = (doc.expires_on - today).days
        threshold = min(d for d in REMINDER_DAYS if days_left <= d)
        if doc.reminded_days is not None and doc.reminded_days <= threshold:
            continue
        for email in owner_emails(doc.tenant_id):
            with speaking(email_locale(email, doc.tenant_id)):
                subject, text = reminder_mail(doc, business, days_left)
            with tenant_scope(doc.tenant_id):
                deliver(f"verification-reminder:{doc.id}:{threshold}:{email}", account_email(email, subject, text))
        with platform_scope("verification: reminder sent"):
            doc.reminded_days = threshold
            db.session.flush()
        sent += 1
    sync_verified_flags(today)
    return sent
