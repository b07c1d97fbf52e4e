"""The front desk's customer file: composes the customers domain with chat and notifications.

The customers package sits below chat and notifications (they ask it who owns a record), so the
actions that touch all of them live here, one layer above, each in one transaction with one
audit entry (:func:`app.audit.service.record_audit`):

* :func:`merge_customers` — bookings, notes, tags (:mod:`app.customers.merge`) and chat
  participants (:mod:`app.chat.customer_data`) move to the kept record; audit ``customer.merged``;
* :func:`export_customer` — the JSON of a GDPR access request: the record's data
  (:mod:`app.customers.privacy`), its chat messages and its marketing consent; audit
  ``customer.exported``;
* :func:`erase_customer` — anonymise the record and erase the customer's messages; audit
  ``customer.erased`` with the typed reason and counts only (never the erased data);
* :func:`consent_of` — the record's marketing consent (notifications' ``marketing_consent``).

Functions flush and never commit.
"""

from app.crm.consent import Consent, consent_of
from app.crm.records import erase_customer, export_customer, merge_customers

__all__ = ["Consent", "consent_of", "erase_customer", "export_customer", "merge_customers"]
