"""The provider lead endpoints on the business's host, for a staff API token.

``GET /leads`` (``?status=``, ``?category=``), ``POST /leads/{id}/claim`` and
``POST /leads/{id}/quote``. Every call needs ``Authorization: Bearer <staff API token>`` of this
business (401 otherwise); the token acts as the staff member who created it. A malformed id,
a missing one and another business's lead all answer the same 404. A refused claim is a 409
problem whose ``type`` names the case (:data:`CLAIM_TYPES`). Errors are problem+json.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from app.audit.service import AuditActor
from app.blueprints.api import bp
from app.blueprints.api.leads_schemas import LeadList, LeadOut, QuoteIn, QuoteOut, ScorePart
from app.blueprints.api.reviews import Refused, invalid, json_answer, object_body
from app.blueprints.api.schemas import field_errors
from app.extensions import db, limiter
from app.identity.models import User
from app.identity.service import find_api_token
from app.leads.claims import ClaimRefused, ShortOfCredits, claim_lead
from app.leads.inbox import get_lead
from app.leads.models import Lead, LeadStatus
from app.leads.quotes import QuoteError, QuoteInput, quote_lead
from app.timeutil import utcnow
from app.web import parse_uuid, problem, tenant_required

#: Lead API writes per client (Flask-Limiter syntax).
LEAD_API_LIMIT = "60 per minute;1000 per day"
#: Most leads one list answers with.
MAX_LIST = 200
#: ``type`` of each refused claim (RFC 9457), by :attr:`app.leads.claims.ClaimRefused.code`.
CLAIM_TYPES = {"not_routed": "https://plaza.dev/problems/lead-not-routed",
               "already_claimed": "https://plaza.dev/problems/lead-already-claimed",
               "short_of_credits": "https://plaza.dev/problems/insufficient-credits"}
#: Quote fields of the domain -> fields of the API body.
QUOTE_FIELDS = {"min": "min", "max": "max", "currency": "currency", "duration_minutes": "duration_minutes",
                "message": "message"}


def staff_user() -> User:
    """The staff member a valid API token of this business acts for.

    Raises:
        Refused: 401 without a valid staff API token (or when its creator is gone).
    """
    scheme, _sep, secret = request.headers.get("Authorization", "").strip().partition(" ")
    secret = secret.strip()
    token = find_api_token(secret) if scheme.lower() == "bearer" and secret else None
    user = db.session.get(User, token.created_by) if token is not None and token.created_by else None
    if token is None or user is None:
        resp = problem(401, "Unauthorized", _("This needs a staff API token of this business, sent as "
                                            "'Authorization: Bearer <token>'."))
        resp.headers["WWW-Authenticate"] = 'Bearer realm="Plaza API"' + (', error="invalid_token"' if secret else "")
        raise Refused(resp)
    token.last_used_at = utcnow()
    return user


def api_actor(user: User) -> AuditActor:
    """The audit actor of an API call made with ``user``'s token."""
    return AuditActor(user.id, request.remote_addr, request.user_agent.string or None)


def lead_or_404(lead_id: str) -> Lead:
    """The business's lead named in the path.

    Raises:
        Refused: 404 for a malformed, missing or another business's id.
    """
    lead = get_lead(parse_uuid(lead_id))
    if lead is None:
        raise Refused(problem(404, "Not Found", _("There is no lead with this id.")))
    return lead


def lead_out(lead: Lead) -> LeadOut:
    """The API shape of ``lead`` (the contact only once claimed)."""
    parts = {k: ScorePart(value=float(p.get("value") or 0), weight=float(p.get("weight") or 0),
                          contribution=float(p.get("contribution") or 0))
             for k, p in (lead.score_parts or {}).items() if isinstance(p, dict)}
    quote = None
    if lead.quote_min_amount is not None and lead.quote_max_amount is not None and lead.quote_currency:
        quote = QuoteOut(min=lead.quote_min_amount, max=lead.quote_max_amount, currency=lead.quote_currency,
                         duration_minutes=lead.quote_duration_minutes, message=lead.quote_message,
                         quoted_at=lead.quoted_at)
    contact = ({"name": lead.contact_name, "email": lead.contact_email, "phone": lead.contact_phone}
               if lead.claimed_at is not None else None)
    answers = [{"label": str(a.get("label", "")), "text": str(a.get("text", ""))}
               for a in lead.answers_summary or [] if isinstance(a, dict)]
    return LeadOut(id=str(lead.id), job_request_id=str(lead.job_request_id), status=lead.status,
                   category=lead.category_slug, title=lead.title, answers=answers, postcode=lead.postcode,
                   city=lead.city, distance_km=lead.distance_km, timing=lead.timing,
                   complexity_tier=lead.complexity_tier, credits_cost=lead.credits_cost,
                   routing_tier=lead.routing_tier, score=lead.score, score_parts=parts, offered_at=lead.offered_at,
                   expires_at=lead.expires_at, claimed_at=lead.claimed_at, contact_due_at=lead.contact_due_at,
                   contacted_at=lead.contacted_at, contact=contact, quote=quote)


@bp.get("/leads")
@tenant_required
def leads_list() -> Response:
    """``{"leads": [...]}``: the business's leads, newest offer first, optionally of one ``status``
    and/or ``category``."""
    staff_user()
    extra = sorted(set(request.args) - {"status", "category"})
    if extra:
        raise invalid([{"field": name, "message": "This parameter is not allowed."} for name in extra])
    q = sa.select(Lead).order_by(Lead.offered_at.desc()).limit(MAX_LIST)
    status = request.args.get("status")
    if status is not None:
        if status not in {s.value for s in LeadStatus}:
            raise invalid([{"field": "status", "message": "One of " + ", ".join(s.value for s in LeadStatus) + "."}])
        q = q.where(Lead.status == status)
    category = request.args.get("category")
    if category:
        q = q.where(Lead.category_slug == category.strip().lower())
    return json_answer(LeadList(leads=[lead_out(lead) for lead in db.session.scalars(q)]))


@bp.post("/leads/<lead_id>/claim")
@limiter.limit(LEAD_API_LIMIT)
@tenant_required
def lead_claim_api(lead_id: str) -> Response:
    """Claim the lead: 200 with it (a retry by the same token's staff member too); 409 with the
    case in ``type`` when it is not offered to you, already claimed, or you are short of credits."""
    user = staff_user()
    lead = lead_or_404(lead_id)
    try:
        outcome = claim_lead(lead.id, user, api_actor(user))
    except ShortOfCredits as exc:
        return problem(409, "Conflict", _("Short of credits: claiming this lead needs %(needed)d credits and the "
                                          "balance is %(balance)d.", needed=exc.needed, balance=exc.balance),
                       type_=CLAIM_TYPES[exc.code],
                       needed=exc.needed, balance=exc.balance)
    except ClaimRefused as exc:
        detail = (_("Already claimed: %(reason)s", reason=exc.message) if exc.code == "already_claimed"
                  else _("Not routed to you: %(reason)s", reason=exc.message))
        return problem(409, "Conflict", detail, type_=CLAIM_TYPES[exc.code])
    return json_answer(lead_out(outcome.lead))


@bp.post("/leads/<lead_id>/quote")
@limiter.limit(LEAD_API_LIMIT)
@tenant_required
def lead_quote_api(lead_id: str) -> Response:
    """Send or change the quote of a claimed lead: 200 with the lead; 422 naming the field at
    fault; 409 when the lead is not claimed (or closed)."""
    user = staff_user()
    lead = lead_or_404(lead_id)
    body: dict[str, Any] = object_body()
    try:
        data = QuoteIn.model_validate(body)
    except ValidationError as exc:
        raise invalid(field_errors(exc)) from None
    try:
        quoted = quote_lead(lead.id, QuoteInput(data.min, data.max, data.currency, data.duration_minutes,
                                                data.message), user, api_actor(user))
    except QuoteError as exc:
        if exc.field is None:
            return problem(409, "Conflict", exc.message)
        raise invalid([{"field": QUOTE_FIELDS.get(exc.field, exc.field), "message": exc.message}]) from None
    return json_answer(lead_out(quoted))
