"""The transactional outbox: what happened, written in the transaction that made it happen.

* :mod:`app.outbox.models`: the ``outbox_event`` table (:class:`OutboxEvent`).
* :mod:`app.outbox.events`: :func:`emit`, the one way domains write an event (optionally once
  per dedup key).
* :mod:`app.outbox.relay`: the worker's relay from committed events to RQ jobs.

Domains tell the rest of the system what happened by emitting events here; they never call
their consumers (notifications, payments' policy jobs) directly.
"""
