"""Evidence files: images and PDFs checked by their content, stored privately.

Images go through :func:`app.storage.images.prepare_photo` (decoded, re-encoded, metadata
stripped); PDFs are recognised by their magic bytes (``%PDF-`` at the start and an ``%%EOF``
marker near the end) and stored as uploaded. Both are limited to :data:`MAX_BYTES`. Keys live
under ``disputes/`` (never a public prefix), so files are only reachable through
:func:`evidence_url`'s short-lived signed URL.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from flask_babel import gettext as _

from app.disputes.errors import EvidenceRejected
from app.disputes.models import DisputeEvidence
from app.extensions import db
from app.storage.images import ImageRejected, prepare_photo
from app.storage.local import default_storage
from app.storage.urls import url_for_key
from app.tenants.context import require_tenant_id

#: Largest evidence file, in bytes.
MAX_BYTES = 10_000_000
#: Most files one party attaches in one step.
MAX_FILES = 5


@dataclass(frozen=True)
class Upload:
    """A file as received: its ``filename`` (shown only) and ``data`` bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    """An accepted file: the bytes to store, their ``content_type`` and ``extension``."""

    data: bytes
    content_type: str
    extension: str


def check_file(upload: Upload) -> CheckedFile:
    """Accept ``upload`` as a PNG/JPEG/WebP/GIF image (re-encoded) or a PDF, by content.

    Raises:
        EvidenceRejected: empty, over :data:`MAX_BYTES`, or neither an image nor a PDF.
    """
    data = upload.data
    if not data:
        raise EvidenceRejected(_("One of the files is empty."))
    if len(data) > MAX_BYTES:
        raise EvidenceRejected(_("%(file)s is too large: at most %(size)s MB.", file=upload.filename or _("A file"),
                                 size=MAX_BYTES // 1_000_000))
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-1024:]:
            raise EvidenceRejected(_("%(file)s is not a complete PDF file.", file=upload.filename or _("The PDF")))
        return CheckedFile(data, "application/pdf", "pdf")
    try:
        image = prepare_photo(data, max_bytes=MAX_BYTES)
    except ImageRejected as exc:
        raise EvidenceRejected(_("%(file)s: only images (PNG, JPEG, WebP, GIF) and PDF files are accepted. %(why)s",
                                 file=upload.filename or _("A file"), why=exc.message)) from exc
    return CheckedFile(image.data, image.content_type, image.extension)


def check_files(uploads: list[Upload]) -> list[CheckedFile]:
    """:func:`check_file` for each upload (at most :data:`MAX_FILES`), before anything is stored.

    Raises:
        EvidenceRejected: too many files, or one is refused.
    """
    if len(uploads) > MAX_FILES:
        raise EvidenceRejected(_("Attach at most %(count)s files.", count=MAX_FILES))
    return [check_file(u) for u in uploads]


def store_evidence(dispute_id: uuid.UUID, party: str, uploads: list[Upload]) -> list[DisputeEvidence]:
    """Check every upload, then store each privately and add its row for ``party``
    (``customer`` / ``business`` / ``platform``) on case ``dispute_id``. Tenant in scope; flushes.

    Raises:
        EvidenceRejected: a file is refused (nothing is stored then).
        app.storage.StorageError: the store failed.
    """
    checked = check_files(uploads)
    tenant_hex = require_tenant_id().hex
    storage = default_storage()
    rows = []
    for upload, item in zip(uploads, checked, strict=True):
        digest = hashlib.sha256(item.data).hexdigest()[:24]
        key = f"disputes/{tenant_hex}/{dispute_id.hex}/{digest}.{item.extension}"
        storage.put(key, item.data, item.content_type)
        row = DisputeEvidence(dispute_id=dispute_id, party=party, storage_key=key, content_type=item.content_type,
                              filename=(upload.filename or "")[:200], size=len(item.data))
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def evidence_url(evidence: DisputeEvidence) -> str:
    """A short-lived signed URL of one evidence file (only render it for the parties and admins)."""
    return url_for_key(evidence.storage_key, private=True)
