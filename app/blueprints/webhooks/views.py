"""``POST /webhooks/stripe``: verify, record in the ledger, answer at once; a job processes it."""

from __future__ import annotations

import logging

from flask import jsonify, request
from werkzeug.wrappers import Response

from app.billing.webhooks import SignatureInvalid, record_event, verify
from app.blueprints.webhooks import bp
from app.extensions import db
from app.web import problem

log = logging.getLogger("plaza.billing.webhooks")


@bp.post("/webhooks/stripe")
def stripe_webhook() -> Response:
    """Accept a Stripe event (any host).

    The signature is checked on the raw body first: a bad, missing or stale one answers
    400 ``application/problem+json`` and writes nothing. A known event id answers 200 with
    nothing else done. A new one is recorded, committed, queued for processing and answered 200.
    """
    payload = request.get_data(cache=False)
    try:
        event = verify(payload, request.headers.get("Stripe-Signature"))
    except SignatureInvalid as exc:
        log.warning("stripe webhook rejected", extra={"reason": str(exc)})
        return problem(400, "Bad Request", "The webhook signature could not be verified.")
    new = record_event(event)
    db.session.commit()
    if new:
        try:
            from app.billing.tasks import enqueue_processing

            enqueue_processing(str(event["id"]))
        except Exception:  # noqa: BLE001 - recorded; the sweep processes it later
            log.exception("could not queue a stripe event", extra={"event": event["id"]})
    return jsonify({"received": True, "duplicate": not new})
