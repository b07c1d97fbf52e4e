"""Billing jobs: process one recorded Stripe event, send a billing email once, sweep the ledger.

Jobs take primitive ids and are enqueued by dotted path on the notifications queue
(:func:`app.notifications.tasks.get_queue`), each in a fresh app context
(:func:`app.notifications.tasks.run_on_platform` / ``run_in_tenant``).
"""

from __future__ import annotations

import logging

from rq import Retry

from app.billing import webhooks

# Job wiring on the notifications queue and delivery pipeline: billing's jobs move to the job
# and delivery packages being split out of app.notifications (issue 9, part A); until then the
# billing domain imports them here (a known exception to "billing never imports notifications").
from app.notifications.delivery import deliver
from app.notifications.emails import account_email
from app.notifications.tasks import (
    FAILURE_TTL,
    RESULT_TTL,
    RETRY_INTERVALS,
    get_queue,
    run_in_tenant,
    run_on_platform,
)
from app.uow import unit_of_work

log = logging.getLogger("plaza.billing")

TASKS = "app.billing.tasks"


def job_retry() -> Retry:
    """RQ's retry policy for billing jobs: the notifications queue's intervals (seconds)."""
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def enqueue_processing(event_id: str) -> None:
    """Queue :func:`process_webhook_event` for ``event_id`` (needs an app context)."""
    get_queue().enqueue(f"{TASKS}.process_webhook_event", event_id, retry=job_retry(), result_ttl=RESULT_TTL,
                        failure_ttl=FAILURE_TTL)


def _enqueue_effects(effects: list[webhooks.Effect]) -> None:
    queue = get_queue()
    for e in effects:
        queue.enqueue(f"{TASKS}.send_billing_email", e.tenant_id, e.key, e.to, e.subject, e.text,
                      retry=job_retry(), result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)


def handle_event(event_id: str) -> str:
    """Process ledger event ``event_id`` in the current app context, one unit of work: the email jobs
    are enqueued before the commit (at least once; each is deduplicated by its key), so a crash
    between the two sends nothing twice and loses nothing. Returns the outcome status.

    Raises:
        Exception: processing failed; the error is recorded on the ledger row and re-raised.
    """
    try:
        with unit_of_work():
            outcome = webhooks.process_event(event_id)
            _enqueue_effects(outcome.effects)
    except Exception as exc:  # noqa: BLE001 - whatever failed is recorded on the event's row, then re-raised
        with unit_of_work():
            webhooks.record_failure(event_id, f"{type(exc).__name__}: {exc}")
        log.warning("webhook processing failed", extra={"event": event_id, "error": str(exc)})
        raise
    return outcome.status


def process_webhook_event(event_id: str) -> str:
    """Job: derive state from Stripe event ``event_id`` once (see :mod:`app.billing.webhooks`)."""
    return run_on_platform(handle_event, event_id)


def periodic_webhook_sweep() -> int:
    """Periodic job: :func:`sweep_unprocessed` (events whose processing job was lost)."""
    return run_on_platform(sweep_unprocessed)


def send_billing_email(tenant_id: str, key: str, to: str, subject: str, text: str) -> str:
    """Job: send a platform billing email to a business owner once per dedup ``key`` (the
    tenant's ``delivery`` table). Returns the delivery outcome.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, lambda: deliver(key, account_email(to, subject, text)).value)


def sweep_unprocessed() -> int:
    """Process every recorded event whose job was lost (each in its own transaction); returns how many
    were processed now. Needs an app context."""
    count = 0
    with unit_of_work():
        ids = webhooks.unprocessed_event_ids()
    for event_id in ids:
        try:
            if handle_event(event_id) == "processed":
                count += 1
        except Exception:  # noqa: BLE001 - recorded on the row; the next sweep retries
            continue
    return count
