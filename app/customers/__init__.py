"""The customers domain: a business's customer records, who they belong to, and the CRM.

* :mod:`app.customers.ownership` writes the rule "this customer record belongs to this account"
  once (linked to the account, or the account's email once verified); bookings, chat and the
  account pages ask it instead of repeating the rule.
* :mod:`app.customers.models` staff-only notes and tags on a record.
* :mod:`app.customers.queries` the CRM's read models: the list with search and paging, a
  customer's bookings, visits, no-shows and spend.
* :mod:`app.customers.service` contact edits (audited), notes and tags.
* :mod:`app.customers.merge` and :mod:`app.customers.privacy` the record-level parts of merging
  duplicates and of GDPR export and erasure; :mod:`app.crm` composes them with chat and
  notifications and audits them.

The record itself (:class:`app.booking.models.Customer`) and its upsert
(:func:`app.booking.service.upsert_customer`) live in the booking domain, which creates it.
"""
