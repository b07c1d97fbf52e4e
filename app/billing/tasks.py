"""Billing jobs: process one recorded Stripe event, send a billing email once, sweep the ledger.

Jobs take primitive ids and are enqueued by dotted path on the notifications queue
(:func:`app.jobs.runner.get_queue`), each in a fresh app context
(:func:`app.jobs.runner.run_on_platform` / ``run_in_tenant``).
"""

from __future__ import annotations

import logging

from app.billing import webhooks
from app.delivery.mailer import account_email
from app.delivery.pipeline import deliver
from app.jobs.runner import FAILURE_TTL, RESULT_TTL, get_queue, retry_policy, run_in_tenant, run_on_platform
from app.uow import unit_of_work

log = logging.getLogger("plaza.billing")

TASKS = "app.billing.tasks"



def enqueue_processing(event_id: str) -> None:
    """Queue :func:`process_webhook_event` for ``event_id`` (needs an app context)."""
    get_queue().enqueue(f"{TASKS}.process_webhook_event", event_id, retry=retry_policy(), result_ttl=RESULT_TTL,
                        failure_ttl=FAILURE_TTL)


def _enqueue_effects(effects: list[webhooks.Effect]) -> None:
    queue = get_queue()
    for e in effects:
        queue.enqueue(f"{TASKS}.send_billing_email", e.tenant_id, e.key, e.to, e.subject, e.text,
                      retry=retry_policy(), result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)


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
