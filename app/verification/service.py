"""Verification's domain functions: submit a document, decide on it, keep the badge in step.

A business is *verified* while at least one of its approved documents has not expired
(``expires_on`` on or after today, UTC). The badge the public sees is the ``verified`` flag of
its ``marketplace_listing`` row, which :func:`sync_verified_flags` recomputes with one SQL
statement from the documents (after every decision and on every expiry sweep), inside an
explicit ``platform_scope``: the listing is a platform table.

Functions flush, never commit; the request or job around them commits once.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.errors import InputError
from app.extensions import db
from app.identity.models import User
from app.outbox.events import emit
from app.storage import Storage
from app.storage.images import ImageRejected, prepare_photo
from app.tenants.context import platform_scope, require_tenant_id, tenant_scope
from app.tenants.models import Membership, Role, Tenant
from app.timeutil import utcnow
from app.verification.models import DocumentKind, DocumentStatus, VerificationDocument

#: Largest accepted upload, in bytes.
MAX_DOCUMENT_BYTES = 10_000_000
#: Longest side of a re-encoded image document, in pixels (documents must stay legible).
DOCUMENT_MAX_SIDE = 3000
#: Outbox event of an admin's decision (payload: ``document_id``).
DECIDED_EVENT = "verification.decided"
#: Longest rejection reason (characters).
MAX_REASON = 500


class DocumentRejected(InputError):
    """An upload or a form value that cannot be accepted; ``message`` is user-facing."""


class InvalidDecision(InputError):
    """A decision that cannot be made (the document is not pending, a rejection without a reason)."""


@dataclass(frozen=True)
class CheckedFile:
    """An upload checked by its content: the bytes to store, their ``content_type`` and file ``extension``."""

    data: bytes
    content_type: str
    extension: str


def check_document_file(data: bytes) -> CheckedFile:
    """``data`` (an upload) when it is a PDF (by its ``%PDF-`` header and ``%%EOF`` trailer) or an
    image (PNG, JPEG, WebP, GIF: re-encoded, metadata stripped), at most :data:`MAX_DOCUMENT_BYTES`.

    Raises:
        DocumentRejected: empty, too large, neither a PDF nor a readable image.
    """
    if not data:
        raise DocumentRejected(_("Choose a file."), "file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRejected(_("The file is too large: at most %(size)s MB.", size=MAX_DOCUMENT_BYTES // 1_000_000), "file")
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise DocumentRejected(_("This PDF is damaged or incomplete; try another file."), "file")
        return CheckedFile(data, "application/pdf", "pdf")
    try:
        image = prepare_photo(data, max_bytes=MAX_DOCUMENT_BYTES, max_side=DOCUMENT_MAX_SIDE)
    except ImageRejected as exc:
        raise DocumentRejected(_("Upload a PDF or an image (PNG, JPEG, WebP or GIF)."), "file") from exc
    return CheckedFile(image.data, image.content_type, image.extension)


def document_key(tenant_id: uuid.UUID, checked: CheckedFile) -> str:
    """The private storage key of a document: ``private/verification/<tenant hex>/<sha256[:24]>.<ext>``
    (never under a public prefix, so it is served only through signed URLs)."""
    digest = hashlib.sha256(checked.data).hexdigest()[:24]
    return f"private/verification/{tenant_id.hex}/{digest}.{checked.extension}"


def submit_document(storage: Storage, actor: AuditActor, kind: str, title: str, expires_on: date,
                    data: bytes, today: date | None = None) -> VerificationDocument:
    """Add a pending document of the business in scope: ``kind`` (a :class:`DocumentKind`),
    ``title`` (1–120 characters), ``expires_on`` (a date after ``today``, UTC), the uploaded
    ``data`` (checked by :func:`check_document_file`, stored privately). Audit-logged.

    Raises:
        DocumentRejected: a bad kind, title, expiry date or file (``field`` names it).
        StorageError: the store refused the file.
        TenantScopeError: no business in scope.
    """
    tid = require_tenant_id()
    today = today or utcnow().date()
    if kind not in {k.value for k in DocumentKind}:
        raise DocumentRejected(_("Choose what the document is."), "kind")
    title = (title or "").strip()
    if not 1 <= len(title) <= 120:
        raise DocumentRejected(_("Name the document (at most 120 characters)."), "title")
    if expires_on <= today:
        raise DocumentRejected(_("The document has expired: upload one that is still valid."), "expires_on")
    checked = check_document_file(data)
    key = document_key(tid, checked)
    storage.put(key, checked.data, checked.content_type)
    doc = VerificationDocument(kind=kind, title=title, storage_key=key, content_type=checked.content_type,
                               expires_on=expires_on, status=DocumentStatus.PENDING.value, uploaded_by=actor.user_id)
    db.session.add(doc)
    db.session.flush()
    record_audit(actor, "verification.document_submitted", "verification_document", doc.id,
                 after={"kind": kind, "title": title, "expires_on": expires_on.isoformat()})
    return doc


def business_documents() -> list[VerificationDocument]:
    """The documents of the business in scope, newest first."""
    return list(db.session.scalars(sa.select(VerificationDocument).order_by(VerificationDocument.created_at.desc())))


def is_verified(today: date | None = None) -> bool:
    """True when the business in scope has an approved document that has not expired (UTC ``today``)."""
    today = today or utcnow().date()
    return bool(db.session.scalar(sa.select(sa.exists().where(
        VerificationDocument.status == DocumentStatus.APPROVED.value, VerificationDocument.expires_on >= today))))


@dataclass(frozen=True)
class QueueItem:
    """A pending document in the admin queue with its business's ``business_name`` and ``business_slug``."""

    document: VerificationDocument
    business_name: str
    business_slug: str


def pending_queue(limit: int = 200) -> list[QueueItem]:
    """Pending documents of every business, oldest first (at most ``limit``), read in an explicit
    ``platform_scope`` (the admin console)."""
    with platform_scope("admin console: verification queue"):
        rows = db.session.execute(
            sa.select(VerificationDocument, Tenant.name, Tenant.slug)
            .join(Tenant, Tenant.id == VerificationDocument.tenant_id)
            .where(VerificationDocument.status == DocumentStatus.PENDING.value)
            .order_by(VerificationDocument.created_at).limit(limit)).all()
    return [QueueItem(doc, name, slug) for doc, name, slug in rows]


def get_document_any(document_id: uuid.UUID) -> VerificationDocument | None:
    """The document ``document_id`` of any business (admin console), or ``None``."""
    with platform_scope("admin console: verification document"):
        return db.session.scalar(sa.select(VerificationDocument).where(VerificationDocument.id == document_id))


def decide_document(actor: AuditActor, document_id: uuid.UUID, approve: bool, reason: str,
                    today: date | None = None) -> VerificationDocument:
    """An admin approves or rejects the pending document ``document_id`` (``reason`` required to
    reject, kept either way). Audit-logged in the business's log, the owner told (outbox event
    :data:`DECIDED_EVENT`) and the listing's badge recomputed.

    Raises:
        LookupError: no such document.
        InvalidDecision: not pending, or a rejection without a reason.
    """
    reason = (reason or "").strip()[:MAX_REASON]
    with platform_scope("admin console: verification decision"):
        doc = db.session.scalar(sa.select(VerificationDocument).where(VerificationDocument.id == document_id))
        if doc is None:
            raise LookupError(f"verification document {document_id} not found")
        if doc.status != DocumentStatus.PENDING.value:
            raise InvalidDecision(_("This document has already been decided."))
        if not approve and not reason:
            raise InvalidDecision(_("Give the business a reason for the rejection."), "reason")
        before = {"status": doc.status}
        doc.status = (DocumentStatus.APPROVED if approve else DocumentStatus.REJECTED).value
        doc.reason, doc.decided_by, doc.decided_at = reason, actor.user_id, utcnow()
        with tenant_scope(doc.tenant_id):
            db.session.flush()
            record_audit(actor, "verification.document_" + ("approved" if approve else "rejected"),
                         "verification_document", doc.id, reason=reason, before=before,
                         after={"status": doc.status, "kind": doc.kind, "expires_on": doc.expires_on.isoformat()})
            emit(DECIDED_EVENT, {"document_id": str(doc.id)}, dedup_key=f"{DECIDED_EVENT}:{doc.id}")
        sync_verified_flags(today, business_id=doc.tenant_id)
    return doc


SYNC_SQL = sa.text("""
    update marketplace_listing l
       set verified = v.verified
      from (select t.id, exists(select 1 from verification_document d
                                 where d.tenant_id = t.id and d.status = 'approved' and d.expires_on >= :today)
                         as verified
              from tenant t where (cast(:business_id as uuid) is null or t.id = cast(:business_id as uuid))) v
     where l.business_id = v.id and l.verified is distinct from v.verified
""")


def sync_verified_flags(today: date | None = None, business_id: uuid.UUID | None = None) -> int:
    """Set every listing's ``verified`` flag (or only ``business_id``'s) from the documents;
    returns how many listings changed. Runs in an explicit ``platform_scope`` (platform role)."""
    with platform_scope("verified badge of marketplace listings"):
        result = db.session.execute(SYNC_SQL, {"today": today or utcnow().date(), "business_id": business_id})
        db.session.flush()
    return int(result.rowcount or 0)


def owner_emails(tenant_id: uuid.UUID) -> list[str]:
    """The login emails of the owners of business ``tenant_id`` (read in ``platform_scope``)."""
    with platform_scope("verification: the business's owners"):
        return list(db.session.scalars(
            sa.select(User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == tenant_id, Membership.role == Role.OWNER.value)))
