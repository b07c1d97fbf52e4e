"""The owner's verification page (``/dashboard/verification``): upload documents for the verified
badge and follow each one's decision; the badge's template global for the storefront.

Documents are stored privately; the page links to each through a signed URL that expires
(:func:`app.storage.urls.url_for_key`). A refused upload re-renders the form with 422 and the
error beside its field; nothing is written.
"""

from __future__ import annotations

from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.audit.service import AuditActor
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.views.common import done
from app.extensions import db, limiter
from app.marketplace.models import MarketplaceListing
from app.storage.local import default_storage
from app.storage.urls import url_for_key
from app.verification.models import DocumentKind
from app.verification.service import DocumentRejected, business_documents, is_verified, submit_document
from app.web import render_page
from app.web.access import owner_required

#: Uploads a business may make per hour.
UPLOAD_LIMIT = "30 per hour"


class DocumentForm(FlaskForm):
    """A verification document: what it is, its name, its expiry date and the file (PDF or image)."""

    kind = SelectField(_l("Document"), choices=[SelectChoice(DocumentKind.LICENCE.value, _l("Licence")),
                                            SelectChoice(DocumentKind.INSURANCE.value, _l("Insurance")),
                                            SelectChoice(DocumentKind.CERTIFICATION.value, _l("Certification"))])
    title = StringField(_l("Name"), filters=[lambda v: (v or "").strip()],
                        validators=[DataRequired(_l("Name the document.")), Length(max=120)])
    expires_on = DateField(_l("Valid until"), validators=[DataRequired(_l("Enter the expiry date."))])
    file = FileField(_l("File (PDF or image)"))


def audit_actor() -> AuditActor:
    """The signed-in person acting, with the request's IP address and user agent."""
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)


def render_verification(form: DocumentForm, status: int = 200) -> Response:
    """The verification page with ``form`` (the ``upload`` block for HTMX)."""
    docs = business_documents()
    links = {doc.id: url_for_key(doc.storage_key, private=True) for doc in docs}
    return render_page("dashboard/verification.html", block="upload", status=status, form=form, documents=docs,
                       links=links, verified=is_verified())


@bp.get("/dashboard/verification")
@owner_required
def verification() -> Response:
    """The owner's verification page: the badge's state, the documents and the upload form."""
    return render_verification(DocumentForm(formdata=None))


@bp.post("/dashboard/verification")
@owner_required
@limiter.limit(UPLOAD_LIMIT, key_func=lambda: str(g.tenant.id), scope="verification-upload")
def verification_upload() -> Response:
    """Upload a document for review (owner only); 422 with inline errors when it is refused."""
    form = DocumentForm()
    if not form.validate():
        return render_verification(form, 422)
    upload = request.files.get(form.file.name)
    data = upload.read() if upload else b""
    try:
        with db.session.begin_nested():
            submit_document(default_storage(), audit_actor(), form.kind.data, form.title.data, form.expires_on.data,
                            data)
    except DocumentRejected as exc:
        field = getattr(form, exc.field or "file")
        field.errors = [*field.errors, exc.message]
        return render_verification(form, 422)
    return done(_("Document sent for review. We will email you the decision."), url_for("dashboard.verification"))


@bp.app_template_global("business_verified")
def business_verified(business_id: object) -> bool:
    """True when the listing of business ``business_id`` shows the verified badge (templates)."""
    return bool(db.session.scalar(db.select(MarketplaceListing.verified).where(
        MarketplaceListing.business_id == business_id)))
