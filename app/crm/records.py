"""Merge, export and erase a customer record across the domains that hold its data, audited."""

from __future__ import annotations

from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.booking.models import Customer
from app.chat.customer_data import count_conversations, customer_messages, erase_customer_messages, move_participants
from app.crm.consent import consent_of
from app.customers.errors import CustomerError
from app.customers.merge import MergePlan, merge_records, snapshot
from app.customers.privacy import erase_record, export_record
from app.customers.service import check_not_erased
from app.timeutil import utcnow


def merge_customers(keep: Customer, duplicate: Customer, actor: AuditActor, reason: str = "") -> MergePlan:
    """Merge ``duplicate`` into ``keep``: bookings, notes, tags and chat participation move, the
    duplicate is removed; one ``customer.merged`` audit entry (object: the kept record) holds
    both records as they were and the counts moved. Returns the plan carried out.

    Raises:
        CannotMerge: see :func:`app.customers.merge.plan_merge`; nothing changes then.
    """
    before = {"keep": snapshot(keep), "duplicate": snapshot(duplicate)}
    conversations = count_conversations(duplicate.id)
    dup_id, keep_id = duplicate.id, keep.id
    plan = merge_records(keep, duplicate)
    move_participants(dup_id, keep_id)
    record_audit(actor, "customer.merged", "customer", keep_id, reason=reason, before=before,
                 after={"keep": snapshot(keep), "moved": {"bookings": plan.bookings, "notes": plan.notes,
                                                          "tags": plan.tags, "conversations": conversations}})
    return plan


def export_customer(customer: Customer, actor: AuditActor) -> dict:
    """The JSON-ready export of a GDPR access request (``app.customers.privacy.export_record``
    plus ``messages`` and ``marketing_consent``, and ``exported_at`` in RFC 3339 UTC); records a
    ``customer.exported`` audit entry."""
    data = {"exported_at": utcnow().isoformat(), **export_record(customer),
            "messages": customer_messages(customer.id)}
    consent = consent_of(customer)
    data["marketing_consent"] = {"status": consent.status, "scope": consent.scope or None, "method": consent.method,
                                 "since": consent.since.isoformat() if consent.since else None}
    record_audit(actor, "customer.exported", "customer", customer.id,
                 after={"bookings": len(data["bookings"]), "messages": len(data["messages"]),
                        "notes": len(data["notes"])})
    return data


def erase_customer(customer: Customer, actor: AuditActor, reason: str) -> dict:
    """Anonymise ``customer`` and erase the messages they wrote (see :mod:`app.customers.privacy`);
    one ``customer.erased`` audit entry with ``reason`` and the counts. Returns the counts
    (``notes``, ``tags``, ``bookings_kept``, ``messages``).

    Raises:
        AlreadyErased: the record was already anonymised.
        CustomerError: no reason given (``field`` ``"reason"``).
    """
    check_not_erased(customer)
    if not (reason or "").strip():
        raise CustomerError(_("Type the reason for erasing this customer's data."), "reason")
    messages = erase_customer_messages(customer.id)
    counts = {**erase_record(customer), "messages": messages}
    record_audit(actor, "customer.erased", "customer", customer.id, reason=reason.strip(), after=counts)
    return counts
