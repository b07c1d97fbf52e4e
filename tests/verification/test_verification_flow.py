"""Business verification end to end: the owner uploads a document (checked by content, stored
privately, opened through a signed URL), an admin approves or rejects it with a reason (audit-
logged, owner emailed), the badge shows on the profile and in search, and the expiry sweep
reminds 30 and 7 days ahead and removes the badge when the document lapses."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.identity.service import find_user
from app.jobs.runner import run_on_platform
from app.outbox.relay import relay_outbox
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from app.timeutil import utcnow
from app.verification.models import VerificationDocument
from app.verification.tasks import expiry_sweep
from tests.factories import make_user
from tests.helpers import csrf_from, login_admin, login_as
from tests.marketplace.support import listed, listing
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"
APEX = "http://localhost"
ADMIN = "root@plaza.test"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def bella(ctx, media_root):
    return listed("bella", name="Bella Barbers")


def _client(app, email: str, host: str = HOST):
    client = app.test_client()
    (login_admin if email == ADMIN else login_as)(client, email, host=host)
    return client


def _upload(client, data: bytes = PDF, **fields):
    token = csrf_from(client.get("/dashboard/verification", base_url=BASE).data)
    form = {"csrf_token": token, "kind": "licence", "title": "Barber licence",
            "expires_on": (utcnow().date() + timedelta(days=365)).isoformat(), **fields}
    form["file"] = (io.BytesIO(data), "licence.pdf")
    return client.post("/dashboard/verification", base_url=BASE, data=form, content_type="multipart/form-data")


def _documents(biz) -> list[VerificationDocument]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        docs = list(db.session.scalars(sa.select(VerificationDocument)))
    db.session.expunge_all()  # plain snapshots: read again after each request
    return docs


def _decide(admin, doc_id, decision: str, reason: str = ""):
    token = csrf_from(admin.get("/admin/verification", base_url=APEX).data)
    return admin.post(f"/admin/verification/{doc_id}", base_url=APEX,
                      data={"csrf_token": token, "decision": decision, "reason": reason})


def _deliver(app) -> None:
    relay_outbox()
    assert run_jobs(app) == []


def test_owner_uploads_a_pdf_stored_privately_and_opened_by_a_signed_link(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    assert _upload(owner).status_code == 303
    [doc] = _documents(bella)
    assert (doc.status, doc.kind, doc.title, doc.content_type) == ("pending", "licence", "Barber licence",
                                                                   "application/pdf")
    assert doc.storage_key.startswith("private/verification/")
    page = owner.get("/dashboard/verification", base_url=BASE).get_data(as_text=True)
    assert "Barber licence" in page and "Pending" in page and "not verified yet" in page
    link = re.search(r'href="(/media/private/[^"]+)"', page).group(1).replace("&amp;", "&")
    anyone = app.test_client()
    resp = anyone.get(link, base_url=BASE)
    assert resp.status_code == 200 and resp.data == PDF
    assert anyone.get(link.split("?")[0], base_url=BASE).status_code == 404  # unsigned
    assert anyone.get(f"/media/{doc.storage_key}", base_url=BASE).status_code == 404  # never public


def test_refused_uploads_re_render_with_the_error_and_write_nothing(app, bella):
    owner = _client(app, bella.owner_email)
    resp = _upload(owner, data=b"just some text renamed to .pdf")
    assert resp.status_code == 422 and "Upload a PDF or an image" in resp.get_data(as_text=True)
    resp = _upload(owner, expires_on=(utcnow().date() - timedelta(days=1)).isoformat())
    assert resp.status_code == 422 and "has expired" in resp.get_data(as_text=True)
    resp = _upload(owner, title="")
    assert resp.status_code == 422 and "Name the document." in resp.get_data(as_text=True)
    assert _documents(bella) == []


def test_only_the_owner_may_open_the_page(app, bella):
    make_user("manager@example.com")
    with tenant_scope(bella.tenant_id):
        add_membership(find_user("manager@example.com"), Role.MANAGER)
        db.session.commit()
    manager = _client(app, "manager@example.com")
    assert manager.get("/dashboard/verification", base_url=BASE).status_code == 403
    make_user("stranger@example.com")
    assert _client(app, "stranger@example.com").get("/dashboard/verification", base_url=BASE).status_code == 404


def test_admin_approves_the_badge_shows_in_search_and_on_the_profile(app, bella, mailbox):
    owner = _client(app, bella.owner_email)
    _upload(owner)
    [doc] = _documents(bella)
    make_user(ADMIN, is_platform_admin=True)
    admin = _client(app, ADMIN, host="localhost")
    queue = admin.get("/admin/verification", base_url=APEX).get_data(as_text=True)
    assert "Bella Barbers" in queue and "Barber licence" in queue and "/media/private/" in queue
    assert listing(bella).verified is False
    resp = _decide(admin, doc.id, "approve")
    assert resp.status_code == 303
    assert "No documents are waiting." in admin.get("/admin/verification", base_url=APEX).get_data(as_text=True)
    assert listing(bella).verified is True
    search = app.test_client().get("/search", base_url=APEX, query_string={"q": "bella"}).get_data(as_text=True)
    assert "✓ Verified" in search
    assert "✓ Verified" in app.test_client().get("/", base_url=BASE).get_data(as_text=True)
    with tenant_scope(bella.tenant_id):
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "verification.document_approved"))
    assert entry is not None and entry.object_id == str(doc.id) and entry.after["status"] == "approved"
    _deliver(app)
    [msg] = mailbox.to(bella.owner_email)
    assert "approved" in subject_of(msg)
    _deliver(app)
    assert len(mailbox.to(bella.owner_email)) == 1  # told once
    assert _decide(admin, doc.id, "reject", "late").status_code == 422  # already decided


def test_admin_rejects_only_with_a_reason_and_the_owner_reads_it(app, bella, mailbox):
    _upload(_client(app, bella.owner_email))
    [doc] = _documents(bella)
    make_user(ADMIN, is_platform_admin=True)
    admin = _client(app, ADMIN, host="localhost")
    resp = _decide(admin, doc.id, "reject")
    assert resp.status_code == 422 and "Give the business a reason" in resp.get_data(as_text=True)
    assert _documents(bella)[0].status == "pending"
    assert _decide(admin, doc.id, "reject", "The licence number is unreadable.").status_code == 303
    assert _documents(bella)[0].status == "rejected"
    assert listing(bella).verified is False
    _deliver(app)
    [msg] = mailbox.to(bella.owner_email)
    assert "The licence number is unreadable." in text_of(msg)
    page = _client(app, bella.owner_email).get("/dashboard/verification", base_url=BASE).get_data(as_text=True)
    assert "Rejected: The licence number is unreadable." in page


def test_every_console_route_is_404_for_everyone_but_an_admin(app, bella):
    _upload(_client(app, bella.owner_email))
    [doc] = _documents(bella)
    owner = _client(app, bella.owner_email, host="localhost")
    assert owner.get("/admin/verification", base_url=APEX).status_code == 404
    assert owner.post(f"/admin/verification/{doc.id}", base_url=APEX,
                      data={"decision": "approve"}).status_code in (400, 404)
    assert _documents(bella)[0].status == "pending"


def test_the_sweep_reminds_at_30_and_7_days_once_and_removes_the_badge_when_it_lapses(app, bella, mailbox):
    _upload(_client(app, bella.owner_email), expires_on=(date.today() + timedelta(days=60)).isoformat())
    [doc] = _documents(bella)
    make_user(ADMIN, is_platform_admin=True)
    _decide(_client(app, ADMIN, host="localhost"), doc.id, "approve")
    expires = doc.expires_on
    assert run_on_platform(expiry_sweep, expires - timedelta(days=40)) == 0
    assert run_on_platform(expiry_sweep, expires - timedelta(days=25)) == 1
    assert run_on_platform(expiry_sweep, expires - timedelta(days=20)) == 0
    assert run_on_platform(expiry_sweep, expires - timedelta(days=6)) == 1
    assert run_on_platform(expiry_sweep, expires - timedelta(days=2)) == 0
    reminders = [subject_of(m) for m in mailbox.to(bella.owner_email) if "expires in" in subject_of(m)]
    assert reminders == ["Bella Barbers: your licence expires in 25 days",
                         "Bella Barbers: your licence expires in 6 days"]
    assert listing(bella).verified is True
    run_on_platform(expiry_sweep, expires + timedelta(days=1))
    assert listing(bella).verified is False
    assert _documents(bella)[0].status == "expired"
    with platform_scope("test"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationDocument)) == 1


def test_the_decision_reaches_the_owner_in_the_businesss_language_unless_they_chose_one(app, bella, mailbox):
    """An owner without a language of their own reads the business's (Danish here); one who chose
    English reads English, about the same kind of decision."""
    from app.identity.models import User
    from app.tenants.models import Tenant

    with platform_scope("test: bella writes Danish"):
        db.session.execute(sa.update(Tenant).where(Tenant.id == bella.tenant_id).values(default_locale="da"))
        db.session.commit()
    make_user(ADMIN, is_platform_admin=True)
    admin = _client(app, ADMIN, host="localhost")
    _upload(_client(app, bella.owner_email))
    [doc] = _documents(bella)
    assert _decide(admin, doc.id, "reject", "Nummeret kan ikke læses.").status_code == 303
    _deliver(app)
    [danish] = mailbox.to(bella.owner_email)
    assert subject_of(danish) == "Bella Barbers: dit dokument blev ikke godkendt"
    assert "Nummeret kan ikke læses." in text_of(danish) and "not approved" not in text_of(danish)

    db.session.execute(sa.update(User).where(User.email == bella.owner_email).values(locale="en"))
    db.session.commit()
    _upload(_client(app, bella.owner_email), title="Second licence")
    second = next(d for d in _documents(bella) if d.title == "Second licence")
    assert _decide(admin, second.id, "reject", "Blurred.").status_code == 303
    _deliver(app)
    english = [m for m in mailbox.to(bella.owner_email) if m is not danish]
    assert [subject_of(m) for m in english] == ["Bella Barbers: your document was not approved"]
