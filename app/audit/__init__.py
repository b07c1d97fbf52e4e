"""The audit log: who did what to which record of a business, when, from where and why.

:func:`app.audit.service.record_audit` is called by a domain function in the same transaction
as the change it records (so a rolled-back change leaves no entry, and a committed one always
has its entry); the blueprint hands the actor's id, IP address and user agent in as an
:class:`app.audit.service.AuditActor`. The ``audit_entry`` table is append-only: the app's
database roles may INSERT and SELECT, never UPDATE or DELETE (grants in migration
``j10c_customers_audit`` and :func:`migrations.rls.apply_grants`). Rows of a business are under
row-level security like every tenant table; platform rows (``tenant_id`` null) are seen only
inside ``platform_scope``. :mod:`app.audit.queries` reads a business's entries,
:mod:`app.audit.search` the whole log (the console's viewer and CSV export); :mod:`app.audit.chain`
checks the hash chain the database keeps over every row (``flask audit verify``, :mod:`app.audit.cli`).
"""
