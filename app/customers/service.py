"""Changing customer records from the dashboard: contact details (audited), staff notes and tags.

Functions flush and never commit; the request's unit of work commits. The business in scope
filters every query; an erased record refuses every change (:class:`AlreadyErased`).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from app.audit.service import AuditActor, record_audit
from app.booking.models import Customer
from app.customers.errors import AlreadyErased, CustomerError, EmailInUse
from app.customers.models import MAX_NOTE, MAX_TAG, CustomerNote, CustomerTag
from app.extensions import db
from app.identity.service import normalize_email
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow

#: The contact fields staff may edit, in the order the audit entry lists them.
CONTACT_FIELDS = ("name", "email", "phone")


def check_not_erased(customer: Customer) -> None:
    """Raise :class:`AlreadyErased` when ``customer`` was anonymised."""
    if customer.erased_at is not None:
        raise AlreadyErased(_("This customer's data was erased; the record can no longer change."))


def update_contact(customer: Customer, actor: AuditActor, *, name: str, email: str | None,
                   phone: str | None) -> dict:
    """Set the customer's name, email (normalised, or ``None`` for none) and phone (E.164 or ``None``); record a
    ``customer.updated`` audit entry with the changed fields' old and new values. Returns the
    changes as ``{field: [old, new]}`` (empty when nothing changed: no entry then).

    Raises:
        AlreadyErased: the record was anonymised.
        EmailInUse: another record of the business has the email.
    """
    check_not_erased(customer)
    new = {"name": name.strip(), "email": normalize_email(email) if email and email.strip() else None,
           "phone": phone or None}
    changes = {k: [getattr(customer, k), v] for k, v in new.items() if getattr(customer, k) != v}
    if not changes:
        return {}
    if "email" in changes and new["email"] is not None:
        other = db.session.scalar(sa.select(Customer.id).where(Customer.email == new["email"],
                                                               Customer.id != customer.id))
        if other is not None:
            raise EmailInUse(other)
    try:
        with db.session.begin_nested():  # a record given the same email meanwhile: the unique key refuses
            for key, (_old, value) in changes.items():
                setattr(customer, key, value)
            db.session.flush()
    except IntegrityError:
        other = db.session.scalar(sa.select(Customer.id).where(Customer.email == new["email"],
                                                               Customer.id != customer.id))
        if other is None:
            raise
        raise EmailInUse(other) from None
    record_audit(actor, "customer.updated", "customer", customer.id,
                 before={k: old for k, (old, _) in changes.items()},
                 after={k: value for k, (_, value) in changes.items()})
    return changes


def add_note(customer: Customer, body: str, *, author_user_id: uuid.UUID | None, author_name: str) -> CustomerNote:
    """Append a staff note (1–2000 characters after trimming) by ``author_name`` to the record.

    Raises:
        AlreadyErased: the record was anonymised.
        CustomerError: the note is empty or too long (``field`` ``"body"``).
    """
    check_not_erased(customer)
    text = (body or "").strip()
    if not text:
        raise CustomerError(_("Write a note first."), "body")
    if len(text) > MAX_NOTE:
        raise CustomerError(_("Keep a note under %(count)d characters.", count=MAX_NOTE), "body")
    note = CustomerNote(customer_id=customer.id, author_user_id=author_user_id, author_name=author_name[:120],
                        body=text, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    return note


def clean_tag(text: str) -> str:
    """A tag as stored: inner whitespace collapsed, trimmed.

    Raises:
        CustomerError: empty, longer than 40 characters, or containing a comma (``field`` ``"tag"``).
    """
    tag = " ".join((text or "").split())
    if not tag:
        raise CustomerError(_("Type a tag first."), "tag")
    if len(tag) > MAX_TAG:
        raise CustomerError(_("Keep a tag under %(count)d characters.", count=MAX_TAG), "tag")
    if "," in tag:
        raise CustomerError(_("Add one tag at a time (no commas)."), "tag")
    return tag


def add_tag(customer: Customer, text: str) -> bool:
    """Tag the record with ``text`` (see :func:`clean_tag`); an existing tag of the same spelling
    (case-insensitively) is kept as it is. Returns True when the tag was added.

    Raises:
        AlreadyErased: the record was anonymised.
        CustomerError: an invalid tag.
    """
    check_not_erased(customer)
    tag = clean_tag(text)
    stmt = pg_insert(CustomerTag).values(tenant_id=require_tenant_id(), id=uuid.uuid4(), customer_id=customer.id,
                                         tag=tag, created_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=[CustomerTag.tenant_id, CustomerTag.customer_id,
                                                       sa.text("lower(tag)")]).returning(CustomerTag.id)
    return db.session.execute(stmt).scalar() is not None


def remove_tag(customer: Customer, tag_id: uuid.UUID) -> bool:
    """Remove one tag of the record; False when it had no such tag."""
    result = db.session.execute(sa.delete(CustomerTag).where(CustomerTag.customer_id == customer.id,
                                                             CustomerTag.id == tag_id)
                                .execution_options(synchronize_session=False))
    return bool(result.rowcount)
