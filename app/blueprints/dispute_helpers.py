"""What the customer's, the business's and the console's dispute pages share: the acting person
for the audit log, the uploaded evidence files of a request, and a case's evidence rows."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_login import current_user

from app.audit.service import AuditActor
from app.disputes.evidence import Upload
from app.disputes.models import Dispute, DisputeEvidence
from app.extensions import db


def evidence_of(case: Dispute) -> list[DisputeEvidence]:
    """The evidence files of ``case``, oldest first (its business in scope)."""
    return list(db.session.scalars(sa.select(DisputeEvidence).where(DisputeEvidence.dispute_id == case.id)
                                   .order_by(DisputeEvidence.created_at)))


def uploads() -> list[Upload]:
    """The request's ``files`` uploads (empty file inputs left out)."""
    return [Upload(f.filename or "", f.read()) for f in request.files.getlist("files") if f and f.filename]


def actor() -> AuditActor:
    """The signed-in person as the audit log's actor (IP and user agent of the request)."""
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)
