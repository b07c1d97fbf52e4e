"""``POST /webhooks/stripe``: verify, record in the ledger, answer at once; a job processes it."""

from __future__ import annotations

import logging

from flask import after_this_request, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.billing.tasks import enqueue_processing
from app.billing.webhooks import SignatureInvalid, record_event, verify
from app.blueprints.webhooks import bp
from app.web import problem

log = logging.getLogger("plaza.billing.webhooks")


@bp.post("/webhooks/stripe")
def stripe_webhook() -> Response:
    """Accept a Stripe event (any host).

    The signature is checked on the raw body first: a bad, missing or stale one answers
    400 ``application/problem+json`` and writes nothing. A known event id answers 200 with
    nothing else done. A new one is recorded, answered 200, and queued for processing once the
    request has committed it.
    """
    payload = request.get_data(cache=False)
    try:
        event = verify(payload, request.headers.get("Stripe-Signature"))
    except SignatureInvalid as exc:
        log.warning("stripe webhook rejected", extra={"reason": str(exc)})
        return problem(400, "Bad Request", _("The webhook signature could not be verified."))
    new = record_event(event)
    if new:
        # Queued once the request's unit of work has committed the event (after-request hooks
        # run after the commit), so the job always finds it.
        event_id = str(event["id"])

        @after_this_request
        def queue_processing(response: Response) -> Response:
            try:
                enqueue_processing(event_id)
            except Exception:  # noqa: BLE001 - recorded; the sweep processes it later
                log.exception("could not queue a stripe event", extra={"event": event_id})
            return response

    return jsonify({"received": True, "duplicate": not new})
