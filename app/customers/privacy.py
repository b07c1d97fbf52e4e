"""GDPR for a customer record: what the business holds about the person (access) and
anonymising the record (erasure).

Erasure keeps the record and its bookings (the books need them: dates, services, prices, and
the payments ledger that refers to the bookings) but removes what identifies the person: the
name becomes "Deleted customer", the email is removed (``NULL``), the phone and account link
are cleared, the bookings' free-text notes and cancellation reasons are emptied, and staff notes and tags are deleted. Chat messages
are erased by :func:`app.chat.customer_data.erase_customer_messages`; :mod:`app.crm` calls both
in one transaction and audits them. Functions flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.customers.models import CustomerNote, CustomerTag
from app.customers.queries import bookings_of, notes_of, tags_of
from app.customers.service import check_not_erased
from app.extensions import db
from app.payments.queries import payment_summaries
from app.timeutil import utcnow

#: The name of an erased record.
ERASED_NAME = "Deleted customer"
def export_record(customer: Customer) -> dict:
    """The business's data about the person behind ``customer`` as a JSON-ready dict: ``profile``,
    ``bookings`` (service, staff, start and end in RFC 3339 UTC, status, price in minor units and
    ISO 4217 currency, notes, cancellation reason), ``payments`` (per booking: due, paid,
    refunded and fees in minor units), ``notes`` (staff notes with author and time) and ``tags``.
    Messages and consent are added by :func:`app.crm.export_customer`."""
    lines = bookings_of(customer.id)
    money = payment_summaries([line.booking.id for line in lines])
    return {
        "profile": {"id": str(customer.id), "name": customer.name, "email": customer.email, "phone": customer.phone,
                    "account_linked": customer.user_id is not None, "created_at": customer.created_at.isoformat(),
                    "erased_at": customer.erased_at.isoformat() if customer.erased_at else None},
        "bookings": [{"id": str(b.id), "service": service, "staff": staff, "status": b.status,
                      "starts_at": b.starts_at.isoformat(), "ends_at": b.ends_at.isoformat(),
                      "price_amount": b.price_amount, "currency": b.currency, "notes": b.notes,
                      "cancel_reason": b.cancel_reason, "created_at": b.created_at.isoformat()}
                     for b, service, staff in ((x.booking, x.service_name, x.staff_name) for x in lines)],
        "payments": [{"booking_id": str(bid), "status": s.status, "currency": s.currency, "due": s.due,
                      "paid": s.paid, "refunded": s.refunded, "fees": s.fees} for bid, s in money.items()],
        "notes": [{"text": n.body, "author": n.author_name, "at": n.created_at.isoformat()}
                  for n in reversed(notes_of(customer.id))],
        "tags": [t.tag for t in tags_of([customer.id]).get(customer.id, [])],
    }


def erase_record(customer: Customer, now: datetime | None = None) -> dict:
    """Anonymise ``customer`` (see the module docstring); returns what was removed as counts
    (``notes``, ``tags``, ``bookings_kept``), never the removed data itself.

    Raises:
        AlreadyErased: the record was already anonymised.
    """
    check_not_erased(customer)
    counts = {}
    for key, model in (("notes", CustomerNote), ("tags", CustomerTag)):
        result = db.session.execute(sa.delete(model).where(model.customer_id == customer.id)
                                    .execution_options(synchronize_session=False))
        counts[key] = result.rowcount or 0
    result = db.session.execute(sa.update(Booking).where(Booking.customer_id == customer.id)
                                .values(notes="", cancel_reason=None).execution_options(synchronize_session=False))
    counts["bookings_kept"] = result.rowcount or 0
    customer.name = ERASED_NAME
    customer.email = None
    customer.phone = None
    customer.user_id = None
    customer.erased_at = now or utcnow()
    db.session.flush()
    return counts
